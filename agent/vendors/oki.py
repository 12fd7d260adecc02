"""OKI (Oki Data) printers behind an OkiLAN print server.

The OkiLAN sysDescr names the engine ("Attached to MC873"); the printer's IEEE 1284 id sits at
the JetDirect-compatible object HP defined, with the long ``MODEL:`` key.
"""

from typing import Final

from agent.vendors.profile import VendorProfile, private, words

PROFILE: Final = VendorProfile(
    key="oki",
    manufacturer="OKI",
    names=words("OKI", "OKI DATA", "OkiLAN", "Okidata"),
    enterprises=(2001,),
    device_id_oids=(private("11.2.3.9.1.1.7.0"),),
)
