"""``agent.toml``, its documented defaults, the merge with the remote part, and the 0600 store."""

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from agent.config import (
    DEFAULT_CREDENTIALS,
    LocalSettings,
    RemoteConfigStore,
    load_local,
    merge,
)
from shared.agent_config import (
    DEFAULT_INTERVALS,
    ConfigError,
    Credential,
    Intervals,
    RemoteConfig,
)

EXAMPLE = Path(__file__).parents[2] / "installers" / "agent.toml"


def test_missing_file_means_documented_defaults(tmp_path):
    settings = load_local(tmp_path / "absent.toml")
    assert settings == LocalSettings()
    effective = merge(settings, None)
    assert effective.intervals == Intervals(
        discovery_s=86400, read_s=900, upload_s=300, upload_jitter_s=60, heartbeat_s=900
    )
    assert effective.credentials == DEFAULT_CREDENTIALS
    assert settings.spool_max_mb == 100
    assert settings.verify is True


def test_the_shipped_example_parses_to_the_defaults():
    """installers/agent.toml documents every key with its default value."""
    assert EXAMPLE.is_file()
    loaded = load_local(EXAMPLE)
    assert replace(loaded, network=RemoteConfig()) == LocalSettings()
    assert merge(loaded, None).intervals == DEFAULT_INTERVALS
    assert merge(loaded, None).credentials == DEFAULT_CREDENTIALS


def test_a_full_file(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(
        """
[server]
url = "https://ingest.example"
ca_bundle = "/etc/ssl/dealer-ca.pem"
proxy = "http://proxy.local:3128"
batch_size = 200
[spool]
max_mb = 20
[snmp]
timeout_s = 2
retries = 0
[schedule]
read_s = 300
[network]
ranges = ["192.0.2.0/28"]
targets = ["192.0.2.50"]
[[credentials]]
version = "2c"
community = "local-secret"
""",
        encoding="utf-8",
    )
    settings = load_local(path)
    assert settings.server_url == "https://ingest.example"
    assert settings.verify == "/etc/ssl/dealer-ca.pem"
    assert (settings.batch_size, settings.spool_max_mb, settings.snmp_retries) == (200, 20, 0)
    assert settings.network.intervals == Intervals(read_s=300)
    assert settings.network.credentials == (Credential(version="2c", community="local-secret"),)


@pytest.mark.parametrize(
    "text",
    [
        "[server]\nverify_tls = false\n",  # a typo must not silently keep the default
        "[spool]\nmax_mb = 0\n",
        "[schedule]\nread_s = 1\n",
        "[nonsense]\n",
        "[server\n",
    ],
)
def test_bad_files_are_errors_naming_the_file(tmp_path, text):
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agent\.toml"):
        load_local(path)


def test_tls_verification_is_only_off_when_explicitly_disabled(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text("[server]\ntls_verify = false\n", encoding="utf-8")
    assert load_local(path).verify is False


def test_remote_adds_ranges_and_credentials_and_overrides_intervals():
    local = LocalSettings(
        network=RemoteConfig(
            ranges=("192.0.2.0/28",),
            credentials=(Credential(community="local"),),
            intervals=Intervals(read_s=300, upload_s=60),
        )
    )
    remote = RemoteConfig(
        ranges=("192.0.2.0/28", "198.51.100.0/29"),
        credentials=(Credential(community="dealer"),),
        intervals=Intervals(read_s=1200),
    )
    effective = merge(local, remote, 7)
    assert effective.ranges == ("192.0.2.0/28", "198.51.100.0/29")
    assert [c.community for c in effective.credentials] == ["local", "dealer"]
    assert effective.intervals.read_s == 1200
    assert effective.intervals.upload_s == 60
    assert effective.intervals.heartbeat_s == 900
    assert effective.remote_version == 7


def test_stored_remote_config_is_private_and_survives_a_restart(tmp_path):
    store = RemoteConfigStore(tmp_path)
    config = RemoteConfig(credentials=(Credential(community="dealer-secret"),))
    store.save(3, config)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert RemoteConfigStore(tmp_path).load() == (3, config)


def test_a_damaged_store_is_ignored_not_fatal(tmp_path):
    store = RemoteConfigStore(tmp_path)
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() == (0, None)
