"""SQLAlchemy models, one module per concept; importing this package registers them all."""

from ingest.models.accounts import Customer, User
from ingest.models.agents import Agent, EnrollmentToken, UploadBatch
from ingest.models.base import Base
from ingest.models.devices import Device, DeviceReading, SupplyLevel

__all__ = [
    "Agent",
    "Base",
    "Customer",
    "Device",
    "DeviceReading",
    "EnrollmentToken",
    "SupplyLevel",
    "UploadBatch",
    "User",
]
