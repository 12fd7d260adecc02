"""When to ship a consumable before it runs out ("reintegro toner"): one function decides.

A slot is reordered when its forecast says it will be empty within the customer's lead time
(the pessimistic end of the range), when its level is at or below the threshold, or when a
coarse device says low/empty.  Never while an order for the same slot is still open: that
reorder closes when the cartridge change is seen.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.forecast import Forecast
from ingest.stored_texts import (
    REORDER_AT_LEVEL,
    REORDER_DEVICE_EMPTY,
    REORDER_DEVICE_LOW,
    REORDER_FORECAST,
)

DEFAULT_LEAD_DAYS: Final = 7
DEFAULT_THRESHOLD_PERCENT: Final = 10
#: Supply kinds the dealer ships automatically: cartridges and the waste boxes they fill.
REORDERED_KINDS: Final = frozenset({"toner", "ink", "waste_toner", "waste_ink"})


def reorder_reason(
    kind: str,
    prediction: Forecast,
    *,
    has_open_reorder: bool,
    lead_days: int = DEFAULT_LEAD_DAYS,
    threshold_percent: int = DEFAULT_THRESHOLD_PERCENT,
) -> str | None:
    """Why this slot must be reordered now, or None."""
    if has_open_reorder or kind not in REORDERED_KINDS:
        return None
    level = prediction.level
    if level is not None and level <= threshold_percent:
        return REORDER_AT_LEVEL % {"level": level, "threshold": threshold_percent}
    if level is None and prediction.state in ("low", "empty"):
        return REORDER_DEVICE_LOW if prediction.state == "low" else REORDER_DEVICE_EMPTY
    earliest = prediction.earliest_days
    if earliest is not None and earliest <= lead_days:
        return REORDER_FORECAST % {"days": f"{earliest:.1f}", "lead": lead_days}
    return None
