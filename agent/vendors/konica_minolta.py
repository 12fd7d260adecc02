"""Konica Minolta bizhub, and the same machines sold as Develop ineo.

Konica Minolta's private counter tree exposes copy and print counts split by colour mode
(``...5.7.2.2.1.5.<colour>.<function>``: colour 1 black, 2 full colour; function 1 copy,
2 print), plus totals, duplex and scans.  It has no black/colour total of its own: the
machine's meter report ("Total Counter: Black / Full Color") is by definition the sum of
the copy and print counters of each colour mode, so the engine derives ``mono`` and
``colour`` from those parts (``derived``).
"""

from typing import Final

from agent.vendors.profile import PRINT_COPY_TOTALS, Brand, VendorProfile, private, words

_COUNTERS: Final = private("18334.1.1.1.5.7.2")

PROFILE: Final = VendorProfile(
    key="konica_minolta",
    manufacturer="Konica Minolta",
    names=words("KONICA MINOLTA", "KONICA", "MINOLTA", "Develop"),
    enterprises=(18334,),
    brands=(Brand(words("Develop"), "Develop"),),
    model_oids=(private("18334.1.1.1.1.6.2.1.0"),),
    firmware_oids=(private("18334.1.1.1.1.6.1.0"),),
    counter_oids={
        f"{_COUNTERS}.1.1.0": "total",
        f"{_COUNTERS}.1.3.0": "duplex",
        f"{_COUNTERS}.1.5.0": "scan",
        f"{_COUNTERS}.2.1.5.1.1": "copy_mono",
        f"{_COUNTERS}.2.1.5.1.2": "print_mono",
        f"{_COUNTERS}.2.1.5.2.1": "copy_colour",
        f"{_COUNTERS}.2.1.5.2.2": "print_colour",
    },
    derived=PRINT_COPY_TOTALS,
)
