"""What an agent is told to do: ranges to discover, printers to read, credentials and intervals.

Both sides speak it: the dealer's staff set it on the ingest server (``scm-ingest agent config
set``), the server hands it to the agent (``GET /api/v1/agents/config``), and the agent's local
``agent.toml`` carries the same sections.  One parser checks it wherever it comes from, so a value
the server accepts is a value the agent accepts.

Credentials are secrets: :class:`Credential` never shows a community or a key in its ``repr``,
so logging a config object cannot leak one.  Interval floors keep a typo (or a compromised
server) from turning the agent into a flood of SNMP or HTTP requests.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final

from shared.agent_release import Release, ReleaseError, parse_release

SNMP_VERSIONS: Final = ("1", "2c", "3")
AUTH_PROTOCOLS: Final = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV_PROTOCOLS: Final = ("des", "3des", "aes", "aes192", "aes256")
MAX_RANGES: Final = 64
MAX_TARGETS: Final = 4096
MAX_CREDENTIALS: Final = 16
#: Largest range accepted (a /16): a bigger sweep would run for hours at every discovery.
MAX_RANGE_ADDRESSES: Final = 65536
_MAX_TEXT: Final = 256

#: name -> (default, floor, ceiling) in seconds.
INTERVALS: Final = {
    "discovery_s": (86400, 60, 30 * 86400),
    "read_s": (900, 60, 86400),
    "upload_s": (300, 10, 86400),
    "upload_jitter_s": (60, 0, 3600),
    "heartbeat_s": (900, 30, 86400),
}


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the offending key."""


@dataclass(frozen=True, slots=True)
class Credential:
    """How to talk SNMP to a device: a v1/v2c community or a v3 user with its keys."""

    version: str = "2c"
    community: str | None = field(default=None, repr=False)
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_key: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """A log-safe description: the version and the v3 user name, never a secret."""
        if self.version == "3":
            protocols = "/".join(p for p in (self.auth_protocol, self.priv_protocol) if p)
            return f"v3 user {self.user}" + (f" ({protocols})" if protocols else "")
        return f"v{self.version} community"

    @property
    def fingerprint(self) -> str:
        """A short stable id, so the agent can remember which credential a device answered."""
        canonical = json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")
        return hashlib.sha256(canonical).hexdigest()[:16]

    def to_dict(self) -> dict[str, str]:
        """Only the keys that are set."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}


@dataclass(frozen=True, slots=True)
class Intervals:
    """Job intervals in seconds; ``None`` means "not set here" (a lower layer's value applies)."""

    discovery_s: int | None = None
    read_s: int | None = None
    upload_s: int | None = None
    upload_jitter_s: int | None = None
    heartbeat_s: int | None = None

    def over(self, base: Intervals) -> Intervals:
        """These values where set, ``base``'s elsewhere."""
        return replace(
            base,
            **{f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None},
        )

    def value(self, name: str) -> int:
        """The interval ``name``, falling back to the documented default."""
        value = getattr(self, name)
        return int(INTERVALS[name][0] if value is None else value)

    def to_dict(self) -> dict[str, int]:
        """Only the intervals that are set."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


DEFAULT_INTERVALS: Final = Intervals(**{name: spec[0] for name, spec in INTERVALS.items()})


@dataclass(frozen=True, slots=True)
class RemoteConfig:
    """The part of an agent's configuration the dealer manages centrally."""

    ranges: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    credentials: tuple[Credential, ...] = ()
    intervals: Intervals = field(default_factory=Intervals)
    #: The agent release offered to this agent (set by the dealer's rollout, not by hand).
    release: Release | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, secrets included: for the wire and the 0600 file, never for a log."""
        data: dict[str, Any] = {
            "ranges": list(self.ranges),
            "targets": list(self.targets),
            "credentials": [c.to_dict() for c in self.credentials],
            "intervals": self.intervals.to_dict(),
        }
        if self.release is not None:
            data["release"] = self.release.to_dict()
        return data

    def redacted(self) -> dict[str, Any]:
        """What may be shown to a person or logged: credentials reduced to their labels."""
        return {**self.to_dict(), "credentials": [c.label for c in self.credentials]}


def parse_remote_config(data: Any) -> RemoteConfig:
    """Check untrusted configuration data (JSON from the server, a TOML table) and build it."""
    if not isinstance(data, dict):
        raise ConfigError("config: expected an object")
    unknown = set(data) - {"ranges", "targets", "credentials", "intervals", "release"}
    if unknown:
        raise ConfigError(f"config: unknown keys {sorted(unknown)}")
    try:
        release = parse_release(data["release"]) if data.get("release") is not None else None
    except ReleaseError as err:
        raise ConfigError(str(err)) from err
    return RemoteConfig(
        release=release,
        ranges=tuple(_range(v, f"ranges[{i}]") for i, v in enumerate(_list(data, "ranges"))),
        targets=tuple(_target(v, f"targets[{i}]") for i, v in enumerate(_list(data, "targets"))),
        credentials=tuple(
            parse_credential(v, f"credentials[{i}]")
            for i, v in enumerate(_list(data, "credentials"))
        ),
        intervals=parse_intervals(data.get("intervals", {}), "intervals"),
    )


def parse_intervals(data: Any, where: str) -> Intervals:
    """Intervals within their floors and ceilings; the upload jitter may not exceed the interval."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of seconds")
    unknown = set(data) - set(INTERVALS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, int] = {}
    for name, value in data.items():
        _default, floor, ceiling = INTERVALS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not floor <= value <= ceiling:
            raise ConfigError(f"{where}.{name}: an integer from {floor} to {ceiling} seconds")
        values[name] = value
    jitter, upload = values.get("upload_jitter_s"), values.get("upload_s")
    if jitter is not None and upload is not None and jitter > upload:
        raise ConfigError(f"{where}.upload_jitter_s: may not exceed upload_s")
    return Intervals(**values)


def parse_credential(data: Any, where: str) -> Credential:
    """One credential: a community for v1/v2c, a user (and keys by security level) for v3."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object")
    unknown = set(data) - {f.name for f in fields(Credential)}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values = {n: _text(data[n], f"{where}.{n}") for n in data if n != "version"}
    version = str(data.get("version", "2c"))
    if version not in SNMP_VERSIONS:
        raise ConfigError(f"{where}.version: one of {list(SNMP_VERSIONS)}")
    values["version"] = version
    if version != "3":
        if not values.get("community"):
            raise ConfigError(f"{where}.community: required for SNMP v{version}")
        if set(values) - {"version", "community"}:
            raise ConfigError(f"{where}: v{version} takes only a community")
        return Credential(**values)
    return _v3_credential(values, where)


def _v3_credential(values: dict[str, Any], where: str) -> Credential:
    if not values.get("user") or values.get("community"):
        raise ConfigError(f"{where}: v3 needs a user and no community")
    for kind, choices in (("auth", AUTH_PROTOCOLS), ("priv", PRIV_PROTOCOLS)):
        protocol, key = values.get(f"{kind}_protocol"), values.get(f"{kind}_key")
        if (protocol is None) != (key is None):
            raise ConfigError(f"{where}: {kind}_protocol and {kind}_key go together")
        if protocol is not None and protocol.lower() not in choices:
            raise ConfigError(f"{where}.{kind}_protocol: one of {list(choices)}")
        if key is not None and len(key) < 8:
            raise ConfigError(f"{where}.{kind}_key: at least 8 characters (RFC 3414)")
        if protocol is not None:
            values[f"{kind}_protocol"] = protocol.lower()
    if values.get("priv_protocol") and not values.get("auth_protocol"):
        raise ConfigError(f"{where}: privacy needs authentication too (authPriv)")
    return Credential(**values)


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    limit = {"ranges": MAX_RANGES, "targets": MAX_TARGETS, "credentials": MAX_CREDENTIALS}[key]
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list")
    if len(value) > limit:
        raise ConfigError(f"{key}: at most {limit} entries")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        raise ConfigError(f"{where}: expected a non-empty string (at most {_MAX_TEXT} characters)")
    return value


def _range(value: Any, where: str) -> str:
    """``192.168.1.0/24``, ``192.168.1.10-192.168.1.50`` or one address; at most a /16."""
    text = _text(value, where).strip()
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            size = int(last) - int(first) + 1 if first.version == last.version else 0
        else:
            size = ipaddress.ip_network(text, strict=False).num_addresses
    except ValueError as err:
        raise ConfigError(f"{where}: not a network, address range or address: {text!r}") from err
    if size < 1:
        raise ConfigError(f"{where}: the range ends before it starts")
    if size > MAX_RANGE_ADDRESSES:
        raise ConfigError(f"{where}: more than {MAX_RANGE_ADDRESSES} addresses")
    return text


def _target(value: Any, where: str) -> str:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` with a UDP port from 1 to 65535."""
    text = _text(value, where).strip()
    if any(c.isspace() for c in text) or "/" in text:
        raise ConfigError(f"{where}: expected HOST[:PORT], got {text!r}")
    host, port = _split_host_port(text)
    if not host:
        raise ConfigError(f"{where}: expected HOST[:PORT], got {text!r}")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError(f"{where}: the port must be from 1 to 65535, got {text!r}")
    return text


def _split_host_port(text: str) -> tuple[str, str | None]:
    """Host and port text; a bare IPv6 address (several colons, no brackets) has no port."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return "", None
        return host, rest[1:] if rest else None
    if text.count(":") == 1:
        host, _colon, port = text.partition(":")
        return host, port
    return text, None
