"""The monitoring agent: finds printers, reads them over SNMP, spools and uploads signed batches."""

__version__ = "0.1.0"
