"""SQLAlchemy models, one module per concept; importing this package registers them all."""

from ingest.models.accounts import Customer, User
from ingest.models.agents import Agent, EnrollmentToken, UploadBatch
from ingest.models.base import Base
from ingest.models.devices import Device, DeviceReading, SupplyLevel
from ingest.models.fleet import Contract, Machine, Site
from ingest.models.invoices import Invoice, InvoiceCounter, InvoiceLine, Payment
from ingest.models.meters import MeterRead, MeterReadRequest

__all__ = [
    "Agent",
    "Base",
    "Contract",
    "Customer",
    "Device",
    "DeviceReading",
    "EnrollmentToken",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "Machine",
    "MeterRead",
    "MeterReadRequest",
    "Payment",
    "Site",
    "SupplyLevel",
    "UploadBatch",
    "User",
]
