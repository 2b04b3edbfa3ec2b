"""What needs no credentials: the versions document and the OpenAPI document."""

from flask import Blueprint, Response, jsonify

import logsvc
from api import openapi
from api.state import app_state

bp = Blueprint("meta", __name__)


@bp.get("/")
def versions() -> Response:
    base = public_base()
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


def public_base() -> str:
    """The start of the API's own links: [api] public_endpoint, or "" (relative links).

    Never the request's Host or X-Forwarded-Proto: any caller may send those,
    and a link built from them would send the next client wherever they say.
    """
    return (app_state().conf.api.public_endpoint or "").rstrip("/")
