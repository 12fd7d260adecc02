"""SQLAlchemy models, one module per concept; importing this package registers them all."""

from ingest.models.accounts import Customer, User
from ingest.models.agent_fleet import AgentRefusal, AgentRelease, ReleaseRollout
from ingest.models.agents import Agent, AgentNonce, EnrollmentToken, UploadBatch
from ingest.models.alerts import (
    Alert,
    AlertSettings,
    ApiToken,
    Delivery,
    NotificationPreference,
    OutboxMessage,
    WebhookEndpoint,
)
from ingest.models.base import Base
from ingest.models.devices import Device, DeviceDaily, DeviceReading, SupplyLevel, SupplyState
from ingest.models.fleet import Contract, Machine, Site
from ingest.models.invoices import CreditNote, DocumentCounter, Invoice, InvoiceLine, Payment
from ingest.models.jobs import Job
from ingest.models.meters import MeterRead, MeterReadRequest
from ingest.models.orders import DeliveryNote, DeliveryNoteLine, Order, OrderLine
from ingest.models.posts import Post
from ingest.models.supplies import CartridgeChange, Consumable, Reorder
from ingest.models.tickets import Ticket, TicketAttachment, TicketEvent

__all__ = [
    "Agent",
    "AgentNonce",
    "AgentRefusal",
    "AgentRelease",
    "Alert",
    "AlertSettings",
    "ApiToken",
    "Base",
    "CartridgeChange",
    "Consumable",
    "Contract",
    "CreditNote",
    "Customer",
    "Delivery",
    "DeliveryNote",
    "DeliveryNoteLine",
    "Device",
    "DeviceDaily",
    "DeviceReading",
    "DocumentCounter",
    "EnrollmentToken",
    "Invoice",
    "InvoiceLine",
    "Job",
    "Machine",
    "MeterRead",
    "MeterReadRequest",
    "NotificationPreference",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Payment",
    "Post",
    "ReleaseRollout",
    "Reorder",
    "Site",
    "SupplyLevel",
    "SupplyState",
    "Ticket",
    "TicketAttachment",
    "TicketEvent",
    "UploadBatch",
    "User",
    "WebhookEndpoint",
]
