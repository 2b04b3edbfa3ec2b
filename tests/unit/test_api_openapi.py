"""The OpenAPI document: valid, served, and in step with the routes."""

import re

from openapi_spec_validator import validate

from api import openapi
from tests.openapi_check import OpenApiChecker


def test_the_document_is_valid_openapi_3():
    validate(openapi.document())


def test_it_is_served(client):
    resp = client.get("/v1/openapi.json")
    assert resp.status_code == 200 and resp.get_json() == openapi.document()


def test_every_route_is_documented_and_every_documented_path_is_a_route(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        # the web console's HTML pages (docs/console.md) are not the REST API
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    documented = {
        (path, method)
        for path, item in openapi.document()["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert routes == documented


def test_the_checker_catches_a_wrong_shape_and_an_undocumented_status():
    checker = OpenApiChecker()
    ok = b'{"logs": []}'
    assert checker.check("GET", "/v1/instance/i/log", 200, "application/json", ok) == []
    assert checker.check("GET", "/v1/instance/i/log", 200, "application/json", b'{"log": 1}')
    assert checker.check("GET", "/v1/instance/i/log", 418, "application/json", ok)
    assert checker.check("GET", "/v1/instance/i/log", 200, "text/html", ok)
    # the web console's pages are HTML, and not the document's
    assert checker.check("GET", "/console/instances", 200, "text/html", b"<!doctype html>") == []
