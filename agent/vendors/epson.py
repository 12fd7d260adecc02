"""Epson WorkForce / EcoTank / AcuLaser.

Supplies and the life count come from the standard Printer-MIB; Epson's private counters
differ per family and are not read.
"""

from typing import Final

from agent.vendors.profile import VendorProfile, words

PROFILE: Final = VendorProfile(
    key="epson",
    manufacturer="Epson",
    names=words("EPSON", "Seiko Epson"),
    enterprises=(1248,),
)
