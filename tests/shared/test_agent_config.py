"""The remote configuration both sides parse: limits, credentials and what a log may show."""

import pytest

from shared.agent_config import (
    ConfigError,
    Credential,
    Intervals,
    parse_credential,
    parse_remote_config,
)

GOOD = {
    "ranges": ["192.0.2.0/24", "198.51.100.10-198.51.100.20", "203.0.113.7"],
    "targets": ["192.0.2.10", "printer.example:1161"],
    "credentials": [
        {"version": "2c", "community": "s3cret-community"},
        {
            "version": "3",
            "user": "monitor",
            "auth_protocol": "SHA256",
            "auth_key": "auth-secret-123",
            "priv_protocol": "aes",
            "priv_key": "priv-secret-456",
        },
    ],
    "intervals": {"read_s": 600, "upload_s": 120, "upload_jitter_s": 30},
}


def test_a_full_config_round_trips():
    config = parse_remote_config(GOOD)
    assert config.ranges == tuple(GOOD["ranges"])
    assert config.credentials[1].auth_protocol == "sha256"
    assert config.intervals == Intervals(read_s=600, upload_s=120, upload_jitter_s=30)
    assert parse_remote_config(config.to_dict()) == config


def test_secrets_never_show_in_repr_or_redacted_output():
    config = parse_remote_config(GOOD)
    shown = repr(config) + str(config.redacted())
    for secret in ("s3cret-community", "auth-secret-123", "priv-secret-456"):
        assert secret not in shown
    assert config.redacted()["credentials"] == ["v2c community", "v3 user monitor (sha256/aes)"]


def test_fingerprints_are_stable_and_distinct():
    one = Credential(version="2c", community="a")
    assert one.fingerprint == Credential(version="2c", community="a").fingerprint
    assert one.fingerprint != Credential(version="2c", community="b").fingerprint
    assert len(one.fingerprint) == 16


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ranges": ["10.0.0.0/8"]}, "more than 65536 addresses"),
        ({"ranges": ["not-a-network"]}, "not a network"),
        ({"ranges": ["10.0.0.9-10.0.0.1"]}, "ends before it starts"),
        ({"targets": ["a b"]}, "HOST[:PORT]"),
        ({"targets": ["192.0.2.10:99999"]}, "from 1 to 65535"),
        ({"targets": ["192.0.2.10:0"]}, "from 1 to 65535"),
        ({"targets": ["192.0.2.10:snmp"]}, "from 1 to 65535"),
        ({"targets": [":161"]}, "HOST[:PORT]"),
        ({"targets": ["[2001:db8::1]:70000"]}, "from 1 to 65535"),
        ({"intervals": {"read_s": 5}}, "read_s: an integer from 60"),
        ({"intervals": {"upload_s": 30, "upload_jitter_s": 60}}, "may not exceed"),
        ({"intervals": {"read_s": True}}, "read_s"),
        ({"credentials": [{"version": "2c"}]}, "community: required"),
        ({"credentials": [{"version": "3", "user": "u", "priv_protocol": "aes"}]}, "go together"),
        (
            {
                "credentials": [
                    {"version": "3", "user": "u", "auth_protocol": "md5", "auth_key": "x"}
                ]
            },
            "at least 8",
        ),
        ({"credentials": [{"version": "4", "community": "c"}]}, "version"),
        ({"colour": "red"}, "unknown keys"),
        ([], "expected an object"),
    ],
)
def test_bad_configs_are_refused_with_the_key_named(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_remote_config(data)
    assert message in str(caught.value)


def test_v3_privacy_without_authentication_is_refused():
    with pytest.raises(ConfigError, match="authPriv"):
        parse_credential(
            {"version": "3", "user": "u", "priv_protocol": "aes", "priv_key": "12345678"}, "c"
        )
