"""Dell laser printers (OEM engines from Lexmark, Fuji Xerox and Samsung).

Dell publishes an IEEE 1284-style id (``MODEL:Dell S5830dn``) and the firmware version under
its own tree; everything else is standard Printer-MIB.
"""

from typing import Final

from agent.vendors.profile import VendorProfile, private, words

PROFILE: Final = VendorProfile(
    key="dell",
    manufacturer="Dell",
    names=words("Dell"),
    enterprises=(674,),
    model_oids=(private("674.10898.100.2.1.2.1.3.1"),),
    firmware_oids=(private("674.10898.100.1.1.1.0"),),
)
