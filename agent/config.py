"""The agent's configuration: a local TOML file, the dealer's remote part, and their merge.

Layers, lowest first: documented defaults, ``agent.toml`` (the site's administrator), then the
remote configuration the server hands out (the dealer's staff).  Remote values may set what to
read and how often (ranges, targets, credentials, intervals), never how to reach the server:
TLS verification, the CA bundle and the proxy stay local, so a compromised or mistaken server
cannot switch off TLS verification.  Ranges, targets and credentials from both layers are all
used (local first); remote intervals override local ones.

The last remote configuration is kept in the agent's home (mode 0600, like the key), so the
agent goes on reading its printers while the server is down, and across restarts.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from shared.agent_config import (
    DEFAULT_INTERVALS,
    ConfigError,
    Credential,
    Intervals,
    RemoteConfig,
    parse_credential,
    parse_intervals,
    parse_remote_config,
)

ENV_CONFIG: Final = "SCM_AGENT_CONFIG"
REMOTE_CONFIG_FILE: Final = "remote-config.json"
DEFAULT_SPOOL_MAX_MB: Final = 100.0
DEFAULT_BATCH_SIZE: Final = 500
DEFAULT_SNMP_TIMEOUT_S: Final = 1.0
DEFAULT_SNMP_RETRIES: Final = 1
DEFAULT_CONCURRENCY: Final = 32
#: Tried when no layer names a credential: what nearly every printer answers out of the box.
DEFAULT_CREDENTIALS: Final = (Credential(version="2c", community="public"),)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_SECTIONS: Final = {
    "server": {"url", "tls_verify", "ca_bundle", "proxy", "batch_size"},
    "spool": {"max_mb"},
    "snmp": {"timeout_s", "retries", "concurrency"},
    "schedule": set(DEFAULT_INTERVALS.to_dict()),
    "network": {"ranges", "targets"},
    "credentials": None,
    "logging": {"level"},
    "status_page": {"port"},
}


def default_config_path() -> Path:
    """``$SCM_AGENT_CONFIG``, else the platform's place for a service's configuration."""
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    if sys.platform == "win32":
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return Path(base) / "SCM Agent" / "agent.toml"
    return Path("/etc/scm-agent/agent.toml")


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """``agent.toml``: every key optional, defaults documented in installers/agent.toml."""

    server_url: str | None = None
    tls_verify: bool = True
    ca_bundle: str | None = None
    proxy: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    spool_max_mb: float = DEFAULT_SPOOL_MAX_MB
    snmp_timeout_s: float = DEFAULT_SNMP_TIMEOUT_S
    snmp_retries: int = DEFAULT_SNMP_RETRIES
    concurrency: int = DEFAULT_CONCURRENCY
    log_level: str = "INFO"
    #: The loopback status page's port; 0 (the default) keeps it off.
    status_port: int = 0
    network: RemoteConfig = field(default_factory=RemoteConfig)

    @property
    def verify(self) -> bool | str:
        """What ``requests`` takes: the CA bundle, True, or False for a lab only."""
        if not self.tls_verify:
            return False
        return self.ca_bundle or True


@dataclass(frozen=True, slots=True)
class Effective:
    """What the service runs with: local settings plus the merged network part."""

    local: LocalSettings
    remote_version: int
    ranges: tuple[str, ...]
    targets: tuple[str, ...]
    credentials: tuple[Credential, ...]
    intervals: Intervals


def load_local(path: Path | None = None) -> LocalSettings:
    """Read ``agent.toml``; a missing file means every default, a malformed one is an error."""
    path = path or default_config_path()
    if not path.is_file():
        return LocalSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err
    try:
        return parse_local(data)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err


def parse_local(data: dict[str, Any]) -> LocalSettings:
    """Check the TOML tables; an unknown key is an error, since a typo would be silently lost."""
    for section, value in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"unknown section [{section}]")
        allowed = _SECTIONS[section]
        if allowed is not None and (not isinstance(value, dict) or set(value) - allowed):
            raise ConfigError(f"[{section}]: allowed keys are {sorted(allowed)}")
    server, snmp = data.get("server", {}), data.get("snmp", {})
    network = data.get("network", {})
    credentials = data.get("credentials", [])
    if not isinstance(credentials, list):
        raise ConfigError("credentials: use [[credentials]] tables")
    return LocalSettings(
        server_url=_optional_text(server, "url"),
        tls_verify=_bool(server, "tls_verify", default=True),
        ca_bundle=_optional_text(server, "ca_bundle"),
        proxy=_optional_text(server, "proxy"),
        batch_size=_int(server, "batch_size", DEFAULT_BATCH_SIZE, 1, 1000),
        spool_max_mb=_float(data.get("spool", {}), "max_mb", DEFAULT_SPOOL_MAX_MB, 0.01, 100_000),
        snmp_timeout_s=_float(snmp, "timeout_s", DEFAULT_SNMP_TIMEOUT_S, 0.1, 60.0),
        snmp_retries=_int(snmp, "retries", DEFAULT_SNMP_RETRIES, 0, 10),
        concurrency=_int(snmp, "concurrency", DEFAULT_CONCURRENCY, 1, 256),
        log_level=str(data.get("logging", {}).get("level", "INFO")).upper(),
        status_port=_int(data.get("status_page", {}), "port", 0, 0, 65535),
        network=RemoteConfig(
            ranges=parse_remote_config({"ranges": network.get("ranges", [])}).ranges,
            targets=parse_remote_config({"targets": network.get("targets", [])}).targets,
            credentials=tuple(
                parse_credential(item, f"credentials[{i}]") for i, item in enumerate(credentials)
            ),
            intervals=parse_intervals(data.get("schedule", {}), "schedule"),
        ),
    )


def merge(local: LocalSettings, remote: RemoteConfig | None, remote_version: int = 0) -> Effective:
    """Local then remote, duplicates removed, defaults where neither layer says anything."""
    remote = remote or RemoteConfig()
    credentials = _unique(local.network.credentials + remote.credentials)
    return Effective(
        local=local,
        remote_version=remote_version,
        ranges=_unique(local.network.ranges + remote.ranges),
        targets=_unique(local.network.targets + remote.targets),
        credentials=credentials or DEFAULT_CREDENTIALS,
        intervals=remote.intervals.over(local.network.intervals.over(DEFAULT_INTERVALS)),
    )


class RemoteConfigStore:
    """The last remote configuration, in the agent's home, readable by the service account only."""

    def __init__(self, home: Path) -> None:
        self.path = home / REMOTE_CONFIG_FILE

    def load(self) -> tuple[int, RemoteConfig | None]:
        """The stored version and configuration; (0, None) if none, or if the file is damaged."""
        if not self.path.is_file():
            return 0, None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return int(data["version"]), parse_remote_config(data["config"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("ignoring the stored remote configuration (%s)", type(err).__name__)
            return 0, None

    def save(self, version: int, config: RemoteConfig) -> None:
        """Write atomically, created 0600 so SNMP secrets are never readable by anyone else."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps({"version": version, "config": config.to_dict()}, indent=2)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)


def _unique(items: tuple[_T, ...]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))


def _optional_text(table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string")
    return value


def _bool(table: dict[str, Any], key: str, *, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false")
    return value


def _int(table: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{key}: an integer from {low} to {high}")
    return value


def _float(table: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{key}: a number from {low} to {high}")
    return float(value)
