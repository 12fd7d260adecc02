"""The signed-request scheme: what a signature vouches for, and what breaks it."""

import stat

import pytest

from shared.signing import (
    HEADER_SIGNATURE,
    SignatureError,
    check_clock,
    content_digest,
    generate_private_key,
    load_private_key,
    load_public_key,
    parse_signed_headers,
    public_key_text,
    save_private_key,
    sign_request,
    verify_request,
)

BODY = b"\x1f\x8b some gzip bytes"
PATH = "/api/v1/batches"


def _signed(key, **overrides):
    args = {
        "method": "POST",
        "path": PATH,
        "body": BODY,
        "agent_id": "agent-1",
        "request_id": "0b6c3f3e-9d1c-4a55-9a63-4b1f6a2f0c11",
        "timestamp": 1_700_000_000,
    }
    args.update(overrides)
    return sign_request(key, **args)


def test_a_signed_request_verifies_with_the_matching_public_key():
    key = generate_private_key()
    request = parse_signed_headers(_signed(key))
    verify_request(
        request, load_public_key(public_key_text(key)), method="POST", path=PATH, body=BODY
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "reason"),
    [
        ("POST", PATH, BODY + b"x", "digest_mismatch"),
        ("PUT", PATH, BODY, "bad_signature"),
        ("POST", "/api/v1/other", BODY, "bad_signature"),
    ],
)
def test_changing_body_method_or_path_breaks_the_signature(method, path, body, reason):
    key = generate_private_key()
    request = parse_signed_headers(_signed(key))
    with pytest.raises(SignatureError) as err:
        verify_request(
            request, load_public_key(public_key_text(key)), method=method, path=path, body=body
        )
    assert err.value.reason == reason


@pytest.mark.parametrize("header", ["X-SCM-Agent", "X-SCM-Timestamp", "X-SCM-Request-Id"])
def test_every_signed_header_is_covered(header):
    key = generate_private_key()
    headers = _signed(key)
    headers[header] = "1700000001" if header == "X-SCM-Timestamp" else "other-value"
    with pytest.raises(SignatureError) as err:
        verify_request(
            parse_signed_headers(headers),
            load_public_key(public_key_text(key)),
            method="POST",
            path=PATH,
            body=BODY,
        )
    assert err.value.reason == "bad_signature"


def test_a_signature_from_another_key_is_refused():
    headers = _signed(generate_private_key())
    other = load_public_key(public_key_text(generate_private_key()))
    with pytest.raises(SignatureError):
        verify_request(parse_signed_headers(headers), other, method="POST", path=PATH, body=BODY)


@pytest.mark.parametrize(
    "broken",
    [
        {"X-SCM-Agent": ""},
        {"X-SCM-Timestamp": "soon"},
        {HEADER_SIGNATURE: "not base64!"},
        {HEADER_SIGNATURE: "c2hvcnQ="},
        {"Content-Digest": "md5=:abc:"},
        {"X-SCM-Agent": "bad agent id with spaces"},
    ],
)
def test_malformed_headers_are_refused_before_any_crypto(broken):
    headers = _signed(generate_private_key()) | broken
    with pytest.raises(SignatureError):
        parse_signed_headers(headers)


def test_clock_window_is_five_minutes_either_way():
    request = parse_signed_headers(_signed(generate_private_key()))
    check_clock(request, now=1_700_000_000 + 300)
    check_clock(request, now=1_700_000_000 - 300)
    for now in (1_700_000_000 + 301, 1_700_000_000 - 301):
        with pytest.raises(SignatureError) as err:
            check_clock(request, now=now)
        assert err.value.reason == "stale_timestamp"


def test_private_key_file_is_owner_only_and_round_trips(tmp_path):
    key = generate_private_key()
    path = tmp_path / "keys" / "agent.key"
    save_private_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(load_private_key(path)) == public_key_text(key)


def test_content_digest_is_rfc9530_sha256():
    assert content_digest(b"hello") == "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:"


def test_public_key_must_be_32_bytes():
    with pytest.raises(SignatureError):
        load_public_key("c2hvcnQ=")
