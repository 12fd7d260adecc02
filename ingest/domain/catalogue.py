"""The one rule for "this article fits this machine": its model is among the article's models
(separated by ";", compared without case and spaces)."""

from __future__ import annotations

from ingest.models import Consumable, Machine


def fits(article: Consumable, machine: Machine) -> bool:
    """True when ``article`` is listed for ``machine``'s model."""
    model = _fold(machine.model)
    return bool(model) and model in {_fold(m) for m in article.models.split(";") if m.strip()}


def _fold(text: str | None) -> str:
    return "".join((text or "").lower().split())
