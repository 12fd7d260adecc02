"""Lexmark laser printers and MFPs.

Everything read comes from the standard MIBs; the enterprise number identifies devices
whose sysDescr does not say Lexmark (Lexmark also builds engines sold under other names,
whose sysDescr wins).
"""

from typing import Final

from agent.vendors.profile import VendorProfile, words

PROFILE: Final = VendorProfile(
    key="lexmark",
    manufacturer="Lexmark",
    names=words("Lexmark"),
    enterprises=(641,),
)
