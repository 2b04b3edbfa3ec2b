"""Signed requests: what passes and each way of being refused."""

import pytest

from logsvc.signing import (
    BadSignature,
    ReplayedRequest,
    StaleRequest,
    Unsigned,
    Verifier,
    _mac,
    _message,
    sign,
)

BODY = b'{"publish": true}'


def signed(secret="s3cret", method="POST", path="/v1/logs/general", body=BODY, **kwargs):
    return sign(secret, method, path, body, instance=kwargs.pop("instance", "i-1"), **kwargs)


def check(verifier, method="POST", path="/v1/logs/general", body=BODY, headers=None, **kwargs):
    instance = kwargs.pop("instance", "i-1")
    verifier.verify(method, path, body, headers or {}, instance=instance, **kwargs)


def test_a_signed_request_passes_once():
    verifier = Verifier(["s3cret"])
    headers = signed()
    check(verifier, headers=headers)
    with pytest.raises(ReplayedRequest):
        check(verifier, headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "body", "instance"),
    [
        ("GET", "/v1/logs/general", BODY, "i-1"),
        ("POST", "/v1/logs/slow_query", BODY, "i-1"),
        ("POST", "/v1/logs/general?admin=true", BODY, "i-1"),
        ("POST", "/v1/logs/general", b'{"publish": false}', "i-1"),
        ("POST", "/v1/logs/general", BODY, "i-2"),  # the same request, to another instance
    ],
)
def test_anything_changed_breaks_the_signature(method, path, body, instance):
    with pytest.raises(BadSignature):
        check(Verifier(["s3cret"]), method, path, body, signed(), instance=instance)


def test_wrong_key_unsigned_and_stale():
    with pytest.raises(BadSignature):
        check(Verifier(["s3cret"]), headers=signed("other"))
    with pytest.raises(Unsigned):
        check(Verifier(["s3cret"]), headers={})
    with pytest.raises(StaleRequest):
        check(Verifier(["s3cret"], max_skew=60), headers=signed(now=1000.0))
    with pytest.raises(StaleRequest):  # from the future, too
        check(Verifier(["s3cret"], max_skew=60), headers=signed(now=2000.0), now=1000.0)


def test_headers_are_case_insensitive_and_secrets_can_rotate():
    headers = {k.lower(): v for k, v in signed("new").items()}
    check(Verifier(["old", "new"]), headers=headers)


def test_refusals_say_nothing_useful_to_an_attacker():
    for error in (Unsigned(), BadSignature(), StaleRequest(), ReplayedRequest()):
        assert "s3cret" not in error.message and "expected" not in error.message
    assert (
        len({e.code for e in (Unsigned(), BadSignature(), StaleRequest(), ReplayedRequest())}) == 4
    )


def test_the_journal_refuses_replays_across_a_restart(tmp_path):
    journal = str(tmp_path / "nonces")
    headers = signed()
    check(Verifier(["s3cret"], journal=journal), headers=headers)
    with pytest.raises(ReplayedRequest):
        check(Verifier(["s3cret"], journal=journal), headers=headers)  # a new process


def test_the_journal_forgets_what_is_out_of_the_window(tmp_path, monkeypatch):
    journal = tmp_path / "nonces"
    old, fresh = signed(now=1000.0), signed(now=1100.0)
    verifier = Verifier(["s3cret"], max_skew=60, journal=str(journal))
    check(verifier, headers=old, now=1000.0)
    check(verifier, headers=fresh, now=1100.0)
    with open(journal, "a") as f:
        f.write("1100.5")  # a line cut short by a crash
    monkeypatch.setattr("time.time", lambda: 1150.0)
    Verifier(["s3cret"], max_skew=60, journal=str(journal))  # rewrites it at start
    assert journal.read_text().split() == [f"{1100.0:.6f}", fresh["X-Logsvc-Nonce"]]


def test_a_journal_that_cannot_be_written_does_not_refuse_requests(tmp_path):
    verifier = Verifier(["s3cret"], journal=str(tmp_path / "missing-dir" / "nonces"))
    headers = signed()
    check(verifier, headers=headers)
    with pytest.raises(ReplayedRequest):  # remembered in memory all the same
        check(verifier, headers=headers)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Logsvc-Signature", "é" * 64),  # hmac.compare_digest raised TypeError on these
        ("X-Logsvc-Signature", "A" * 64),
        ("X-Logsvc-Signature", "0" * 63),
        ("X-Logsvc-Nonce", "é" * 32),
        ("X-Logsvc-Nonce", "two words in a journal line"),
        ("X-Logsvc-Nonce", "short"),
        ("X-Logsvc-Timestamp", "١٢٣٤٥٦٧٨٩٠"),  # digits that float() reads, but not ASCII
        ("X-Logsvc-Timestamp", " 1000.0"),
        ("X-Logsvc-Timestamp", "-1000.0"),
    ],
)
def test_malformed_headers_are_a_bad_signature_not_an_error(header, value):
    headers = {**signed(), header: value}
    with pytest.raises(BadSignature):
        check(Verifier(["s3cret"]), headers=headers)


def test_a_path_no_signer_could_encode_is_a_bad_signature():
    with pytest.raises(BadSignature):
        check(Verifier(["s3cret"]), path="/v1/logs/\udcff", headers=signed())


def _signed_at(timestamp, secret="s3cret", method="POST", path="/v1/logs/general", body=BODY):
    """Headers signed (with the secret) for a timestamp that `sign` would never write."""
    nonce = "n" * 32
    mac = _mac(secret, _message(method, path, timestamp, nonce, "i-1", body))
    return {"X-Logsvc-Timestamp": timestamp, "X-Logsvc-Nonce": nonce, "X-Logsvc-Signature": mac}


@pytest.mark.parametrize(
    "timestamp", ["nan", "NaN", "inf", "-inf", "infinity", "1e3", "1000e0", "1" * 400, "1_000.0"]
)
def test_a_timestamp_that_is_not_plain_seconds_is_refused(timestamp):
    # Correctly signed: only a holder of the secret could send it, but a NaN
    # failed every comparison and so passed the freshness check forever.
    with pytest.raises(BadSignature):
        check(Verifier(["s3cret"]), headers=_signed_at(timestamp), now=1000.0)


def test_every_accepted_request_is_refused_for_as_long_as_it_could_pass(tmp_path, monkeypatch):
    journal = str(tmp_path / "nonces")
    headers = _signed_at("1000.000000")
    verifier = Verifier(["s3cret"], max_skew=60, journal=journal)
    check(verifier, headers=headers, now=1000.0)
    for later in (1000.0, 1059.0, 1060.0):  # the last moment its timestamp passes
        with pytest.raises(ReplayedRequest):
            check(verifier, headers=headers, now=later)
        monkeypatch.setattr("time.time", lambda later=later: later)
        with pytest.raises(ReplayedRequest):  # a restart reloads the nonce from the journal
            check(Verifier(["s3cret"], max_skew=60, journal=journal), headers=headers, now=later)
    with pytest.raises(StaleRequest):  # and then the window has closed for it
        check(verifier, headers=headers, now=1060.5)


def test_a_journal_line_that_is_not_a_timestamp_and_a_nonce_is_ignored(tmp_path, monkeypatch):
    journal = tmp_path / "nonces"
    journal.write_text("nan " + "a" * 32 + "\n1100.000000 " + "b" * 32 + "\n")
    monkeypatch.setattr("time.time", lambda: 1100.0)
    Verifier(["s3cret"], max_skew=60, journal=str(journal))
    assert journal.read_text() == "1100.000000 " + "b" * 32 + "\n"


@pytest.mark.parametrize("skew", [float("nan"), float("inf"), 0.0, -1.0])
def test_the_window_itself_must_be_finite(skew):
    with pytest.raises(ValueError):
        Verifier(["s3cret"], max_skew=skew)
