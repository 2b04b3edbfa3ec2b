"""Signed requests: what passes and each way of being refused."""

import pytest

from logsvc.signing import (
    BadSignature,
    ReplayedRequest,
    StaleRequest,
    Unsigned,
    Verifier,
    sign,
)


def test_a_signed_request_passes_once():
    verifier = Verifier(["s3cret"])
    headers = sign("s3cret", "POST", "/v1/logs/general", b'{"publish": true}')
    verifier.verify("POST", "/v1/logs/general", b'{"publish": true}', headers)
    with pytest.raises(ReplayedRequest):
        verifier.verify("POST", "/v1/logs/general", b'{"publish": true}', headers)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/logs/general", b'{"publish": true}'),
        ("POST", "/v1/logs/slow_query", b'{"publish": true}'),
        ("POST", "/v1/logs/general?admin=true", b'{"publish": true}'),
        ("POST", "/v1/logs/general", b'{"publish": false}'),
    ],
)
def test_anything_changed_breaks_the_signature(method, path, body):
    headers = sign("s3cret", "POST", "/v1/logs/general", b'{"publish": true}')
    with pytest.raises(BadSignature):
        Verifier(["s3cret"]).verify(method, path, body, headers)


def test_wrong_key_unsigned_and_stale():
    with pytest.raises(BadSignature):
        Verifier(["s3cret"]).verify("GET", "/", b"", sign("other", "GET", "/"))
    with pytest.raises(Unsigned):
        Verifier(["s3cret"]).verify("GET", "/", b"", {})
    with pytest.raises(StaleRequest):
        Verifier(["s3cret"], max_skew=60).verify(
            "GET", "/", b"", sign("s3cret", "GET", "/", now=1000.0)
        )
    with pytest.raises(StaleRequest):  # from the future, too
        Verifier(["s3cret"], max_skew=60).verify(
            "GET", "/", b"", sign("s3cret", "GET", "/", now=2000.0), now=1000.0
        )


def test_headers_are_case_insensitive_and_secrets_can_rotate():
    headers = {k.lower(): v for k, v in sign("new", "GET", "/x").items()}
    Verifier(["old", "new"]).verify("GET", "/x", b"", headers)


def test_refusals_say_nothing_useful_to_an_attacker():
    for error in (Unsigned(), BadSignature(), StaleRequest(), ReplayedRequest()):
        assert "s3cret" not in error.message and "expected" not in error.message
    assert (
        len({e.code for e in (Unsigned(), BadSignature(), StaleRequest(), ReplayedRequest())}) == 4
    )
