"""The OpenAPI 3.1 document of the API, as data: served at ``/v1/openapi.json``.

Kept in step with the routes by the tests: every route of the application is
here and every path here is a route, and every response the test suite gets
from the API is checked against this document.
"""

from typing import Any

import logsvc
from logsvc.logmodel import LogStatus, LogType

_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], properties: dict[str, Any], extra: bool = False) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": extra,
    }


_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_BYTES = {"type": "integer", "minimum": 0}

_FLAG = {
    "description": 'A flag: a JSON boolean, 0 or 1, or the strings "true" and "false" (any case).',
    "oneOf": [
        {"type": "boolean"},
        {"type": "integer", "enum": [0, 1]},
        {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"},
    ],
}

# What marks an answer from the last known state (list, and show).
_STALE = {
    "stale": {
        "const": True,
        "description": "Present when the agent could not be reached: the answer is the "
        "last known state.",
    },
    "last_seen": _TIME_OR_NULL | {"description": "When the agent last answered."},
    "reason": _STR | {"description": "Why the agent was not asked."},
}

_SCHEMAS: dict[str, Any] = {
    "Log": _obj(
        ["name", "type", "status", "published", "pending", "container", "prefix", "metafile"],
        {
            "name": _STR,
            "type": {"enum": [str(t) for t in LogType]},
            "status": {"enum": [str(s) for s in LogStatus]},
            "published": _BYTES | {"description": "Bytes published."},
            "pending": _BYTES | {"description": "Bytes a publish would upload now."},
            "container": _STR_OR_NULL | {"description": "null until something is published"},
            "prefix": _STR_OR_NULL | {"description": "null until something is published"},
            "metafile": _STR,
        },
    ),
    "LogList": _obj(["logs"], {"logs": {"type": "array", "items": _ref("Log")}, **_STALE}),
    "LogOne": _obj(["log"], {"log": _ref("Log"), **_STALE}),
    "LogRequest": _obj(
        ["name"],
        {
            "name": _STR | {"pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "enable": _ref("Flag"),
            "disable": _ref("Flag"),
            "publish": _ref("Flag"),
            "discard": _ref("Flag"),
        },
    ),
    "Flag": _FLAG,
    "Error": _obj(
        ["error"],
        {
            "error": _obj(
                ["code", "message", "status"],
                {"code": _STR, "message": _STR, "status": {"type": "integer"}},
            )
        },
    ),
    "TroveError": {
        "description": 'Trove\'s shape: {"badRequest": {"code": 400, "message": "..."}}.',
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": _obj(
            ["code", "message"], {"code": {"type": "integer"}, "message": _STR}
        ),
    },
    "Instance": _obj(
        [
            "id",
            "name",
            "tenant_id",
            "datastore",
            "task_state",
            "agent_version",
            "last_heartbeat",
            "last_seen",
            "created_at",
            "updated_at",
        ],
        {
            "id": _STR,
            "name": _STR,
            "tenant_id": _STR,
            "datastore": _STR,
            "task_state": _STR | {"description": "ACTIVE, or LOGGING while a publish runs"},
            "agent_version": _STR_OR_NULL,
            "last_heartbeat": _TIME_OR_NULL,
            "last_seen": _TIME_OR_NULL,
            "created_at": _TIME_OR_NULL,
            "updated_at": _TIME_OR_NULL,
            "agent_url": _STR | {"description": "admins only"},
            "own_secret": {"type": "boolean", "description": "admins only"},
        },
    ),
    "InstanceOne": _obj(["instance"], {"instance": _ref("Instance")}),
    "InstanceList": _obj(
        ["instances"], {"instances": {"type": "array", "items": _ref("Instance")}}
    ),
    "InstanceRegistration": _obj(
        ["tenant_id", "datastore", "agent_url"],
        {
            "tenant_id": _STR,
            "datastore": _STR,
            "agent_url": _STR | {"format": "uri"},
            "name": _STR,
            "shared_secret": _STR | {"description": "the agent's own secret (write-only)"},
        },
    ),
    "Heartbeat": _obj(
        ["instance_id", "datastore", "version", "logs"],
        {
            "instance_id": _STR,
            "datastore": _STR,
            "version": _STR,
            "logs": {"type": ["array", "null"], "items": _ref("Log")},
        },
    ),
    "TroveInstance": _obj(
        ["id", "name", "status", "datastore", "links"],
        {
            "id": _STR,
            "name": _STR,
            "status": _STR,
            "tenant_id": _STR,
            "datastore": _obj(["type", "version"], {"type": _STR, "version": _STR}),
            "created": _TIME_OR_NULL,
            "updated": _TIME_OR_NULL,
            "links": {"type": "array", "items": {"type": "object"}},
        },
    ),
    "TroveInstanceOne": _obj(["instance"], {"instance": _ref("TroveInstance")}),
    "TroveInstanceList": _obj(
        ["instances", "links"],
        {
            "instances": {"type": "array", "items": _ref("TroveInstance")},
            "links": {"type": "array"},
        },
    ),
    "Versions": _obj(
        ["versions", "version"],
        {
            "versions": {
                "type": "array",
                "items": _obj(
                    ["id", "status", "links"],
                    {"id": _STR, "status": _STR, "links": {"type": "array"}},
                ),
            },
            "version": _STR,
        },
    ),
}

_MEANINGS = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Malformed request: the message says what is wrong",
    401: "No credentials, or invalid ones (or a bad signature)",
    403: "Not allowed by the policy",
    404: "No such instance (or not the caller's) or log, or no such URL",
    405: "Method not allowed on this URL",
    409: "An action on the same log is running, or the log's file or its datastore does "
    "not allow the action (the message says which)",
    413: "Body too large",
    415: "Body not sent as application/json",
    500: "Internal error",
    502: "The agent answered something unusable",
    503: "The agent (or its object store, or the datastore), or the API's database, is unreachable",
    504: "The agent did not answer in time",
}


def _responses(ok: dict[int, str | None], errors: list[int], error_schema: str) -> dict:
    out: dict[str, Any] = {}
    for status, schema in ok.items():
        out[str(status)] = {"description": _MEANINGS[status]}
        if schema:
            out[str(status)]["content"] = {_JSON: {"schema": _ref(schema)}}
    for status in errors:
        out[str(status)] = {
            "description": _MEANINGS[status],
            "content": {_JSON: {"schema": _ref(error_schema)}},
        }
    return out


def _param(name: str, description: str, where: str = "path") -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": _STR,
    }


_INSTANCE_ID = _param("instance_id", "The instance's id.")
_TENANT_ID = _param("tenant_id", "The caller's project (Trove's URLs carry it).")
_BODY_ERRORS = [400, 413, 415]
_AUTH_ERRORS = [401, 403, 404, 405]
_AGENT_ERRORS = [409, 500, 502, 503, 504]


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {_JSON: {"schema": _ref(schema)}}}


def _log_paths(error_schema: str, params: list[dict]) -> dict[str, Any]:
    return {
        "parameters": params,
        "get": {
            "summary": "List the instance's logs (log-list).",
            "operationId": f"{'trove_' if error_schema == 'TroveError' else ''}list_logs",
            "responses": _responses(
                {200: "LogList"}, [400, *_AUTH_ERRORS, *_AGENT_ERRORS], error_schema
            ),
        },
        "post": {
            "summary": "Show a log (only a name), or enable, disable, publish or discard it.",
            "operationId": f"{'trove_' if error_schema == 'TroveError' else ''}post_log",
            "requestBody": _body("LogRequest"),
            "responses": _responses(
                {200: "LogOne"}, [*_BODY_ERRORS, *_AUTH_ERRORS, *_AGENT_ERRORS], error_schema
            ),
        },
    }


def document() -> dict[str, Any]:
    """The document, fresh (callers may change their copy)."""
    common_errors = [400, 401, 403, 404, 405, 500, 503]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "logsvc API",
            "version": logsvc.__version__,
            "description": "Guest logs of database instances: list, show, enable, disable, "
            "publish and discard them (Trove's guest-log API, and Trove-compatible routes).",
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}
            },
        },
        "security": [{"token": []}],
        "paths": {
            "/": {
                "get": {
                    "summary": "The API's versions.",
                    "operationId": "versions",
                    "security": [],
                    "responses": _responses({200: "Versions"}, [405, 500], "Error"),
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {_JSON: {"schema": {"type": "object"}}},
                        },
                        "405": {
                            "description": _MEANINGS[405],
                            "content": {_JSON: {"schema": _ref("Error")}},
                        },
                    },
                }
            },
            "/v1/instance": {
                "get": {
                    "summary": "The instances the caller may see (admins: every project's).",
                    "operationId": "list_instances",
                    "parameters": [_param("tenant_id", "Only this project's.", "query")],
                    "responses": _responses({200: "InstanceList"}, common_errors, "Error"),
                }
            },
            "/v1/instance/{instance_id}": {
                "parameters": [_INSTANCE_ID],
                "get": {
                    "summary": "One instance.",
                    "operationId": "show_instance",
                    "responses": _responses({200: "InstanceOne"}, common_errors, "Error"),
                },
                "put": {
                    "summary": "Register an instance, or change its registration (admins).",
                    "operationId": "register_instance",
                    "requestBody": _body("InstanceRegistration"),
                    "responses": _responses(
                        {200: "InstanceOne", 201: "InstanceOne"},
                        [*common_errors, 413, 415],
                        "Error",
                    ),
                },
                "delete": {
                    "summary": "Forget an instance (admins).",
                    "operationId": "delete_instance",
                    "responses": _responses({204: None}, common_errors, "Error"),
                },
            },
            "/v1/instance/{instance_id}/heartbeat": {
                "parameters": [_INSTANCE_ID],
                "post": {
                    "summary": "An agent reports in (signed with the instance's secret).",
                    "operationId": "heartbeat",
                    "security": [],
                    "requestBody": _body("Heartbeat"),
                    "responses": _responses(
                        {204: None}, [400, 401, 404, 405, 413, 415, 500, 503], "Error"
                    ),
                },
            },
            "/v1/instance/{instance_id}/log": _log_paths("Error", [_INSTANCE_ID]),
            "/v1.0/{tenant_id}/instances": {
                "parameters": [_TENANT_ID],
                "get": {
                    "summary": "The project's instances, as Trove shows them.",
                    "operationId": "trove_list_instances",
                    "responses": _responses(
                        {200: "TroveInstanceList"}, common_errors, "TroveError"
                    ),
                },
            },
            "/v1.0/{tenant_id}/instances/{instance_id}": {
                "parameters": [_TENANT_ID, _INSTANCE_ID],
                "get": {
                    "summary": "One instance, as Trove shows it.",
                    "operationId": "trove_show_instance",
                    "responses": _responses({200: "TroveInstanceOne"}, common_errors, "TroveError"),
                },
            },
            "/v1.0/{tenant_id}/instances/{instance_id}/log": _log_paths(
                "TroveError", [_TENANT_ID, _INSTANCE_ID]
            ),
        },
    }
