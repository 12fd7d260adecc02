"""Toshiba TEC e-STUDIO multifunction and label printers.

Some e-STUDIO models run Lexmark firmware and report Lexmark's enterprise number, so the
``TOSHIBA`` in sysDescr is what identifies them.
"""

from typing import Final

from agent.vendors.profile import VendorProfile, words

PROFILE: Final = VendorProfile(
    key="toshiba",
    manufacturer="Toshiba",
    names=words("TOSHIBA TEC", "TOSHIBA"),
    enterprises=(1129,),
)
