"""Dealer staff pages ("ops"), one module per area; staff only (403 for customers).

Views parse a form, call one domain function, render: queries live in ``ingest/domain/``.
"""

from ingest.ops import (
    billing,
    catalogue,
    contracts,
    customers,
    dashboard,
    devices,
    integrations,
    posts,
    reads,
    tickets,
)
from ingest.ops.blueprint import blueprint
from ingest.ops.shipping import blueprint as shipping_blueprint

__all__ = [
    "billing",
    "blueprint",
    "catalogue",
    "contracts",
    "customers",
    "dashboard",
    "devices",
    "integrations",
    "posts",
    "reads",
    "shipping_blueprint",
    "tickets",
]
