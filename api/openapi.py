"""The OpenAPI 3.1 document of the API, as data: served at ``/v1/openapi.json``.

Kept in step with the routes by the tests: every route of the application is
here and every path here is a route, and every response the test suite gets
from the API is checked against this document.
"""

from typing import Any

import logsvc
from api.logread import LINES_BOUND
from logsvc.logmodel import LogStatus, LogType, PublishState

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
# A project's id or name used as its tenant (api/bodies.py): never '/', nor '.' or '..'.
_TENANT = {
    "type": "string",
    "pattern": r"^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$",
    "description": "A project's id or name: letters, digits, '-', '_', '.'; at most 64 "
    "characters; not '.' or '..'.",
}

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
        [
            "name",
            "type",
            "status",
            "published",
            "pending",
            "container",
            "prefix",
            "metafile",
            "publish",
        ],
        {
            "name": _STR,
            "type": {"enum": [str(t) for t in LogType]},
            "status": {"enum": [str(s) for s in LogStatus]},
            "published": _BYTES | {"description": "Bytes published."},
            "pending": _BYTES | {"description": "Bytes a publish would upload now."},
            "container": _STR_OR_NULL | {"description": "null until something is published"},
            "prefix": _STR_OR_NULL | {"description": "null until something is published"},
            "metafile": _STR,
            "publish": {
                "description": "The log's last publish as its agent reported it; null "
                "when none is known.",
                "oneOf": [{"type": "null"}, _ref("PublishOutcome")],
            },
            "follow": {
                "type": "boolean",
                "description": "Published continuously (docs/follow.md); absent from "
                "an agent of an earlier version.",
            },
        },
    ),
    "PublishOutcome": _obj(
        ["id", "state", "started_at", "ended_at", "error"],
        {
            "id": _STR | {"description": "Names this publish."},
            "state": {
                "enum": [str(s) for s in PublishState],
                "description": "running (the instance is LOGGING), published, failed "
                "(error says why), or unknown: the agent said it runs and has not been "
                "heard from for [api] agent_silence_warning seconds.",
            },
            "started_at": _STR | {"description": "When the agent started it (UTC)."},
            "ended_at": _STR_OR_NULL | {"description": "When it ended; null while it runs."},
            "error": _STR_OR_NULL | {"description": "Why it failed (the agent's words)."},
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
            "follow": _ref("Flag")
            | {
                "description": "true: publish the log continuously (a USER log is "
                "enabled first); false: stop. Absent: unchanged."
            },
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
            "tenant_id": _TENANT,
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
    "LogObjects": _obj(
        [
            "instance_id",
            "log",
            "container",
            "prefix",
            "size",
            "expires_at",
            "objects",
            "gaps",
            "metafile",
        ],
        {
            "instance_id": _STR,
            "log": _STR,
            "container": _STR_OR_NULL | {"description": "null until something is published"},
            "prefix": _STR_OR_NULL | {"description": "null until something is published"},
            "size": _BYTES
            | {"description": "Bytes the listed objects hold (0: nothing published)."},
            "expires_at": {
                "type": "string",
                "format": "date-time",
                "description": "When every URL of this answer stops being valid "
                "([api] temp_url_ttl from now); ask again for fresh ones.",
            },
            "objects": {
                "type": "array",
                "description": "The log's objects in log order: concatenated, the published log.",
                "items": _obj(
                    ["name", "generation", "offset", "size", "start", "end", "lines", "url"],
                    {
                        "name": _STR,
                        "generation": _BYTES,
                        "offset": _BYTES | {"description": "In its generation's file."},
                        "size": _BYTES,
                        "start": _BYTES | {"description": "First byte, in the published log."},
                        "end": _BYTES
                        | {"description": "Past the last byte, in the published log."},
                        "lines": {
                            "type": ["integer", "null"],
                            "minimum": 0,
                            "description": "Its line count (X-Object-Meta-Lines); null when "
                            "not asked (line_counts=false) or unknown.",
                        },
                        "url": _STR
                        | {
                            "format": "uri",
                            "description": "A Swift temp URL: GET (or HEAD), Range allowed.",
                        },
                    },
                ),
            },
            "gaps": {
                "type": "array",
                "description": "Bytes of the log the store no longer has (expired); a "
                "generation of null stands for whole earlier generations, `size` bytes.",
                "items": _obj(
                    ["generation", "start", "end", "size"],
                    {
                        "generation": {"type": ["integer", "null"]},
                        "start": _BYTES,
                        "end": _BYTES,
                        "size": _BYTES,
                    },
                ),
            },
            "metafile": {
                "oneOf": [
                    {"type": "null"},
                    _obj(["name", "url"], {"name": _STR, "url": _STR | {"format": "uri"}}),
                ],
                "description": "The log's metafile and its temp URL, when there is one.",
            },
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
    202: "A publish still runs after [api] publish_wait seconds: the log's current state, "
    "its publish.state running; show the log to follow it",
    204: "No content",
    206: "Partial content: the one range asked for",
    304: "Not modified: the ETag of If-None-Match is still the log's",
    400: "Malformed request: the message says what is wrong",
    401: "No credentials, or invalid ones (or a bad signature)",
    403: "Not allowed by the policy",
    404: "No such instance (or not the caller's) or log, or no such URL",
    405: "Method not allowed on this URL",
    409: "An action on the same log is running, or the log's file or its datastore does "
    "not allow the action (the message says which)",
    413: "Body too large",
    415: "Body not sent as application/json",
    416: "Range not satisfiable: it starts past the end (Content-Range: bytes */SIZE)",
    500: "Internal error",
    502: "The agent answered something unusable",
    503: "The agent (or its object store, or the datastore), or the API's database, is unreachable",
    501: "This deployment hands out no temp URLs (no Swift, no [api] temp_url_key, or the "
    "logs are in each project's own account: [storage] account = project)",
    504: "The agent did not answer in time",
}


_ALLOW = {
    "description": "The methods that the URL takes, comma-separated (RFC 9110).",
    "required": True,
    "schema": _STR,
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
        if status == 405:
            out[str(status)]["headers"] = {"Allow": _ALLOW}
    return out


def _param(
    name: str, description: str, where: str = "path", schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or _STR,
    }


_INSTANCE_ID = _param("instance_id", "The instance's id.")
_TENANT_ID = _param("tenant_id", "The caller's project (Trove's URLs carry it).", schema=_TENANT)
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
            "description": "With [storage] account = project (docs/deployment.md), a publish "
            "or a discard writes into the Swift account of the instance's project with the "
            "caller's Keystone token and their catalog's object-store endpoint, which travel "
            "to the agent for that action only; follow is then refused (400), and a token "
            "that Swift refuses during the publish fails it (503 storage_auth_error; publish "
            "again with a fresh token to go on).",
            "operationId": f"{'trove_' if error_schema == 'TroveError' else ''}post_log",
            "requestBody": _body("LogRequest"),
            "responses": _responses(
                {200: "LogOne", 202: "LogOne"},
                [*_BODY_ERRORS, *_AUTH_ERRORS, *_AGENT_ERRORS],
                error_schema,
            ),
        },
    }


_OCTETS = "application/octet-stream"


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or _STR}


_DATA_HEADERS = {
    "X-Log-Size": _header(
        "Bytes of the log the object store holds: the length of the whole answer, which "
        "ranges count in (the total of Content-Range).",
        {"type": "integer", "minimum": 0},
    ),
    "X-Log-Published": _header(
        "Bytes of the log as published: those held and those gone (X-Log-Missing-Ranges).",
        {"type": "integer", "minimum": 0},
    ),
    "X-Log-Missing-Ranges": _header(
        "Present when bytes of the log are gone (objects expired or deleted): the ranges "
        "of the log as published (0 to X-Log-Published) that the answer does not hold, "
        "first-last inclusive, comma-separated: 0-999999,2000000-2999999. Whole earlier "
        "generations that are gone come first. The answer holds the other bytes, in order, "
        "and nothing in their place."
    ),
    "X-Log-Runs": _header(
        "Where each generation's bytes lie in the answer, so that a follower keeps its place "
        "across rotations, discards and expiry: the runs of held bytes that are one "
        "generation's file without a hole, comma-separated, each "
        "GENERATION:OFFSET+LENGTH@POSITION (bytes OFFSET on of that generation's file, at "
        "POSITION of the whole answer): 7:0+1200@0,8:0+19@1200. Absent: nothing held. "
        "docs/follow.md."
    ),
    "ETag": _header(
        "A strong validator of the answer: the same objects with the same bytes (and the "
        "same lines asked) give the same ETag. For If-None-Match and If-Range."
    ),
    "Last-Modified": _header("When the newest object was written (absent: nothing published)."),
    "Accept-Ranges": _header("bytes; none for an answer of lines."),
}


def _data_path(error_schema: str, params: list[dict]) -> dict[str, Any]:
    trove = "trove_" if error_schema == "TroveError" else ""
    octets = {_OCTETS: {"schema": {"type": "string", "format": "binary"}}}
    range_header = _header("bytes START-END/SIZE: where the bytes of a 206 lie.")
    responses = _responses({}, [400, 401, 403, 404, 405, 416, 500, 502, 503, 504], error_schema)
    responses["416"]["headers"] = {
        "Content-Range": _header("bytes */SIZE: the length of the whole answer."),
        **{k: v for k, v in _DATA_HEADERS.items() if k.startswith("X-Log-") or k == "ETag"},
    }
    return {
        "parameters": [*params, _param("log_name", "The log's name.")],
        "get": {
            "summary": "The log's published bytes, a range of them, or its last lines.",
            "description": "The bytes of the log that the object store holds, in log order, "
            "byte for byte, streamed (the API reads the store the agents publish into). "
            "A log with nothing published answers 200 with an empty body and X-Log-Size 0. "
            "Range: one range of bytes (bytes=START-END, bytes=START-, bytes=-N) answers 206 "
            "with Content-Range; one that starts past the end, 416 with Content-Range: "
            "bytes */SIZE; several ranges, or a unit other than bytes, are ignored and the "
            "whole log is answered (200); a bytes range that is not one is 400. If-Range "
            "(an ETag or the Last-Modified date) that no longer matches answers the whole "
            "log. lines: as log-tail --lines (0 everything; negative -K: from past line K); "
            "reads only the objects that hold them; a Range is then ignored. An object "
            "that expires while it is being streamed cuts the answer short of its "
            "Content-Length: ask again. Policy: logsvc:log:read (owner or admin), and "
            "logsvc:log:see_unexposed for a log the agent does not expose (404 otherwise).",
            "operationId": f"{trove}read_log",
            "parameters": [
                {
                    "name": "lines",
                    "in": "query",
                    "required": False,
                    "description": "The last N lines (0: all; negative -K: from past line K); "
                    "at most 2^63 - 1 either way.",
                    "schema": {
                        "type": "integer",
                        "minimum": -LINES_BOUND,
                        "maximum": LINES_BOUND,
                    },
                },
                _param("Range", "bytes=START-END, bytes=START- or bytes=-N.", "header"),
                _param("If-Range", "An ETag or a Last-Modified date.", "header"),
                _param("If-None-Match", "ETags: 304 when the log's is among them.", "header"),
            ],
            "responses": {
                "200": {
                    "description": "The whole log (or its lines)",
                    "headers": {**_DATA_HEADERS},
                    "content": octets,
                },
                "206": {
                    "description": _MEANINGS[206],
                    "headers": {**_DATA_HEADERS, "Content-Range": range_header},
                    "content": octets,
                },
                "304": {"description": _MEANINGS[304], "headers": {**_DATA_HEADERS}},
                **responses,
            },
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
            "publish, discard and read them (Trove's guest-log API, and Trove-compatible "
            "routes).",
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
                            "headers": {"Allow": _ALLOW},
                            "content": {_JSON: {"schema": _ref("Error")}},
                        },
                    },
                }
            },
            "/v1/instance": {
                "get": {
                    "summary": "The instances the caller may see (admins: every project's).",
                    "operationId": "list_instances",
                    "parameters": [_param("tenant_id", "Only this project's.", "query", _TENANT)],
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
            "/v1/instance/{instance_id}/log/{log_name}/data": _data_path("Error", [_INSTANCE_ID]),
            "/v1/instance/{instance_id}/log/{log_name}/objects": {
                "parameters": [_INSTANCE_ID, _param("log_name", "The log's name.")],
                "get": {
                    "summary": "The log's objects, each with its byte range, its line count "
                    "and a Swift temp URL valid for [api] temp_url_ttl seconds: read them "
                    "straight from Swift. Policy logsvc:log:read (owner or admin); a log "
                    "the agent does not expose is for admins only (404 to others). A log "
                    "with nothing published answers 200 with no objects and size 0.",
                    "operationId": "log_objects",
                    "parameters": [
                        {
                            "name": "line_counts",
                            "in": "query",
                            "required": False,
                            "description": "false: leave `lines` null and spare Swift one "
                            "HEAD per object (a save needs no line counts). Default true.",
                            "schema": _FLAG,
                        }
                    ],
                    "responses": _responses(
                        {200: "LogObjects"}, [400, *_AUTH_ERRORS, 500, 501, 502, 503, 504], "Error"
                    ),
                },
            },
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
            "/v1.0/{tenant_id}/instances/{instance_id}/log/{log_name}/data": _data_path(
                "TroveError", [_TENANT_ID, _INSTANCE_ID]
            ),
        },
    }
