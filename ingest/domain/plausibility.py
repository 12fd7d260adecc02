"""Plausibility bounds for contract values: a typo must not become an invoice.

A fixed fee of ``1e9`` was once accepted and invoiced.  Values outside the bounds are not
forbidden (a big customer may really pay that much) but need an explicit confirmation.  The
bounds are configuration (``SCM_CONTRACT_BOUNDS``), with defaults that fit a dealer's
cost-per-copy contracts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Final

from ingest.domain.errors import DomainError

ENV_CONTRACT_BOUNDS: Final = "SCM_CONTRACT_BOUNDS"
MSG_OUTSIDE = "{label} {value} is above the usual maximum {limit}"
MSG_CONFIRM = "Please confirm these contract values: {problems}."
MSG_BAD_BOUNDS = "SCM_CONTRACT_BOUNDS: expected NAME=NUMBER pairs separated by commas ({names})"
LABELS: Final = {
    "mono_rate": "EUR per B/W page",
    "colour_rate": "EUR per colour page",
    "fixed_fee": "fixed fee",
    "minimum_charge": "minimum charge",
    "included_mono": "included B/W pages",
    "included_colour": "included colour pages",
}


@dataclass(frozen=True, slots=True)
class ContractBounds:
    """The largest value of each contract term accepted without a confirmation."""

    mono_rate: Decimal = Decimal("0.05")
    colour_rate: Decimal = Decimal("0.50")
    fixed_fee: Decimal = Decimal(2000)
    minimum_charge: Decimal = Decimal(2000)
    included_mono: Decimal = Decimal(200_000)
    included_colour: Decimal = Decimal(100_000)

    @classmethod
    def parse(cls, text: str) -> ContractBounds:
        """``fixed_fee=5000,mono_rate=0.08``: the named bounds replaced, the others default."""
        names = [f.name for f in fields(cls)]
        values: dict[str, Decimal] = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            name, _, number = pair.partition("=")
            try:
                if name.strip() not in names:
                    raise InvalidOperation
                values[name.strip()] = Decimal(number.strip())
            except InvalidOperation as err:
                raise ValueError(MSG_BAD_BOUNDS.format(names=", ".join(names))) from err
        return replace(cls(), **values)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ContractBounds:
        """The bounds the environment sets (defaults where it sets none)."""
        env = os.environ if env is None else env
        return cls.parse(env.get(ENV_CONTRACT_BOUNDS, ""))


DEFAULT_BOUNDS: Final = ContractBounds()


def outside_bounds(values: Mapping[str, Decimal | int], bounds: ContractBounds) -> list[str]:
    """Each value above its bound, said in words (empty: all plausible)."""
    return [
        MSG_OUTSIDE.format(
            label=LABELS[name], value=f"{Decimal(values[name]):f}", limit=getattr(bounds, name)
        )
        for name in LABELS
        if name in values and Decimal(values[name]) > getattr(bounds, name)
    ]


def require_plausible(
    values: Mapping[str, Decimal | int], bounds: ContractBounds, *, confirmed: bool
) -> None:
    """Refuse values outside the bounds unless staff confirmed them (409: ask, then resend)."""
    problems = outside_bounds(values, bounds)
    if problems and not confirmed:
        raise DomainError(
            "needs_confirmation", MSG_CONFIRM.format(problems="; ".join(problems)), 409
        )
