"""What needs no credentials: the versions document and the OpenAPI document."""

from flask import Blueprint, Response, jsonify, request

import logsvc
from api import openapi

bp = Blueprint("meta", __name__)


@bp.get("/")
def versions() -> Response:
    base = request.host_url.rstrip("/")
    return jsonify(
        versions=[
            {"id": "v1", "status": "CURRENT", "links": [{"rel": "self", "href": f"{base}/v1/"}]},
            {
                "id": "v1.0",
                "status": "SUPPORTED",
                "links": [{"rel": "self", "href": f"{base}/v1.0/"}],
            },
        ],
        version=logsvc.__version__,
    )


@bp.get("/v1/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi.document())
