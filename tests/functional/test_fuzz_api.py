"""The API fuzzed from its own OpenAPI document with schemathesis, on a real process.

One API process (gunicorn, the `token` strategy) with an instance whose
agent runs and publishes into the real Swift. schemathesis reads the API's
OpenAPI document (the one the API serves: the fixture checks it), generates
requests for every operation (valid ones, and invalid ones that the API must
refuse) and checks each answer:
no server error (5xx), a documented status, a documented content type, a
body that matches the documented schema, credentials that are really
required, 4xx for invalid input. The API process checks every response
against the document as well (tests/api_server.py).

Three callers: the owner of the registered instance, another tenant, an
admin; ids in the generated URLs are half of the time the registered
instance's (and log names half of the time its published log's, for the
read route), so the fuzzing reaches the agent and the policies and not
only the 404 of an unknown id. The admin's registrations all land on one
id that nothing else asks about, and nothing deletes the instance the
others use.

The number of cases per operation and mode is ``FUZZ_EXAMPLES`` (in the
environment; 60 by default: about 3,000 cases in all, under two minutes),
the same cases on every run; ``FUZZ_RANDOM=1`` draws new ones each run. The
longer run in docs/reliability.md sets both.
"""

import hashlib
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api import openapi
from tests.apistack import INSTANCE, OTHER_TENANT, TENANT, Stack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
]
counts: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, devswift):
    """The API and one agent, an instance registered, its logs with some bytes."""
    # with a temp-URL key, so that the object listing answers (without one it is a 501)
    api = {"api": {"temp_url_key": devswift.temp_url_keys["test"]}}
    stack = Stack(tmp_path_factory.mktemp("fuzz"), devswift, api_sections=api).start()
    served = stack.api.request("GET", "/v1/openapi.json").json()
    assert served == json.loads(json.dumps(openapi.document()))  # what is fuzzed is served
    for name, path in stack.paths.items():
        path.write_bytes(f"{name}: one\n{name}: two\n".encode())
    # something for the read route to serve
    published = stack.post(stack.admin, {"name": "small", "publish": True})
    assert published.status_code == 200, published.text
    yield stack
    stack.stop()  # fails the module's last test if a response broke the document
    print(f"\nfuzzing: {sum(counts.values())} cases, by generation mode: {counts}")


def _schema():
    # Built at import: schemathesis makes one test per operation at collection
    # (its fixture-based lazy schema needs pytest internals that pytest 9 lacks).
    # The fixture checks that the API serves this very document.
    loaded = schemathesis.openapi.from_dict(openapi.document())
    loaded.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        deterministic=not RANDOM,
        # the token is ours to send (the check ignored_auth tries without it)
        with_security_parameters=False,
    )
    return loaded


schema = _schema()


def _half(case, key: str) -> bool:
    """A stable coin flip per case, so that failures replay."""
    seed = repr((case.method, case.path, case.path_parameters, case.body, key))
    return hashlib.sha256(seed.encode()).digest()[0] % 2 == 0


def _aim(case, tenant: str) -> None:
    """Point half of the generated ids at the registered instance and the caller's tenant."""
    params = case.path_parameters
    if params is None:
        return
    if "instance_id" in params and _half(case, "instance"):
        params["instance_id"] = INSTANCE
    if "tenant_id" in params and _half(case, "tenant"):
        params["tenant_id"] = tenant
    if "log_name" in params and _half(case, "log"):
        params["log_name"] = "small"  # published: the read route serves bytes


def _call(fuzzed: Stack, case, token: str) -> None:
    mode = case._meta.generation.mode.value if case._meta else "explicit"
    counts[mode] = counts.get(mode, 0) + 1
    case.call_and_validate(
        base_url=fuzzed.api.url,
        headers={"X-Auth-Token": token},
        checks=schemathesis.checks.CHECKS.get_by_names(CHECKS),
        timeout=60,
    )


FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_the_owner(case, fuzzed):
    _aim(case, TENANT)
    _call(fuzzed, case, fuzzed.alice)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_another_tenant(case, fuzzed):
    _aim(case, OTHER_TENANT)
    _call(fuzzed, case, fuzzed.bob)


@schema.exclude(method="DELETE").parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_an_admin(case, fuzzed):
    _aim(case, TENANT)
    if case.method == "PUT":
        # Registrations land on one id that no other case asks about: an agent
        # serves only its own instance, so another id's log routes would be 503s.
        case.path_parameters["instance_id"] = "inst-fuzz"
    _call(fuzzed, case, fuzzed.admin)
