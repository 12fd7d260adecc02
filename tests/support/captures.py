"""Variants of real captures for end-to-end tests: the same printer after more pages, with
less toner... (snmprec lines rewritten, never the fixtures themselves)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures" / "printers"
SHARP = FIXTURES / "librenms__sharp.snmprec"
#: The Sharp capture's billing counters: total (Printer-MIB), mono and colour (Sharp's table).
BLACK_TONER_LEVEL = "1.3.6.1.2.1.43.11.1.1.9.1.4"
TOTAL, MONO, COLOUR = (
    "1.3.6.1.2.1.43.10.2.1.4.1.1",
    "1.3.6.1.4.1.2385.1.1.19.2.1.3.5.4.61",
    "1.3.6.1.4.1.2385.1.1.19.2.1.3.5.4.63",
)


def capture_variant(
    source: Path,
    target: Path,
    *,
    add: dict[str, int] | None = None,
    values: dict[str, int] | None = None,
) -> None:
    """The same printer later: ``add`` pages to counter OIDs, set ``values`` on others."""
    add, values = add or {}, values or {}
    lines = []
    for line in source.read_text().splitlines():
        oid, tag, value = line.split("|", 2)
        if oid in add:
            value = str(int(value) + add[oid])
        if oid in values:
            value = str(values[oid])
        lines.append(f"{oid}|{tag}|{value}")
    target.write_text("\n".join(lines) + "\n")
