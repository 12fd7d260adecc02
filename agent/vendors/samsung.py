"""Samsung printers (now HP's A3/A4 "Samsung" line).

The sysDescr of these machines starts with the exact model (``Samsung M4080FX; V11...``,
where hrDeviceDescr only says "M408x Series") and ends with ``S/N <serial>``; counters and
supplies come from the standard Printer-MIB.
"""

import re
from typing import Final

from agent.vendors.profile import VendorProfile, words

PROFILE: Final = VendorProfile(
    key="samsung",
    manufacturer="Samsung",
    names=words("Samsung"),
    enterprises=(236,),
    serial_in_descr=words(r"S/N\s*(?P<serial>[A-Z0-9]{6,20})"),
    model_in_descr=re.compile(r"^Samsung\s+(?P<model>[A-Z]{1,4}-?\d[\w-]*)(?=[\s;]|$)", re.I),
)
