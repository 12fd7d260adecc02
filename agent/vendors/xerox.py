"""Xerox, and Fuji Xerox / Fujifilm Business Innovation (same firmware family).

Billing meters live in the Xerox common management MIB device-detail table
(``253.8.53.13.2.1.6.1.20.<n>``: 1 total impressions, 33 colour, 34 black); the model is in
the IEEE 1284 device id Xerox publishes under its own tree, preferred to hrDeviceDescr
("Xerox AltaLink C8045 v1 Multifunction System").
"""

from typing import Final

from agent.vendors.profile import Brand, VendorProfile, private, words

_METERS: Final = private("253.8.53.13.2.1.6.1.20")

PROFILE: Final = VendorProfile(
    key="xerox",
    manufacturer="Xerox",
    names=words("FUJI XEROX", "FUJIFILM", "Xerox"),
    enterprises=(253, 297),
    brands=(
        Brand(words("FUJI XEROX"), "Fuji Xerox"),
        Brand(words("FUJIFILM"), "Fujifilm"),
    ),
    model_oids=(private("253.8.51.1.2.1.20.1"),),
    device_id_oids=(private("253.8.51.1.2.1.20.1"),),
    counter_oids={
        f"{_METERS}.1": "total",
        f"{_METERS}.33": "colour",
        f"{_METERS}.34": "mono",
    },
)
