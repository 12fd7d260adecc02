"""Dealer staff pages ("ops"), one module per area; staff only (403 for customers).

Views parse a form, call one domain function, render: queries live in ``ingest/domain/``.
"""

from ingest.ops import (
    agents,
    billing,
    catalogue,
    contracts,
    customers,
    dashboard,
    demo_mail,
    devices,
    integrations,
    posts,
    reads,
    reorders,
    tickets,
)
from ingest.ops.blueprint import blueprint
from ingest.ops.shipping import blueprint as shipping_blueprint

__all__ = [
    "agents",
    "billing",
    "blueprint",
    "catalogue",
    "contracts",
    "customers",
    "dashboard",
    "demo_mail",
    "devices",
    "integrations",
    "posts",
    "reads",
    "reorders",
    "shipping_blueprint",
    "tickets",
]
