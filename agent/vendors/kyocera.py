"""Kyocera ECOSYS / TASKalfa, and the same machines sold as UTAX and TA Triumph-Adler.

Kyocera's private MIB has a per-function, per-colour-mode counter table
(``42.3.1.2.1.1.<function>.<mode>``: function 1 printer, 2 copier; mode 1 black & white,
3 full colour), per-function totals (``42.3.1.1.1.1.<function>``, 4 fax) and a machine
total (``43.10.1.1.12.1.1``).

Colour TASKalfa and ECOSYS MFPs report only these split counters, no black or colour total:
the machine's own counter report ("Total: Black & White / Full Color") is print + copy (+ fax,
which always prints black) of each colour mode, so ``mono`` and ``colour`` are derived from
them (and marked derived in the reading).
"""

from typing import Final

from agent.vendors.profile import Brand, Sum, VendorProfile, private, words

_FUNCTION: Final = private("1347.42.3.1")

PROFILE: Final = VendorProfile(
    key="kyocera",
    manufacturer="Kyocera",
    names=words("KYOCERA", "UTAX", "TA_UTAX", "Triumph[- ]Adler", "Copystar"),
    enterprises=(1347,),
    brands=(
        Brand(words("UTAX", "TA_UTAX"), "UTAX"),
        Brand(words("Triumph[- ]Adler"), "TA Triumph-Adler"),
        Brand(words("Copystar"), "Copystar"),
    ),
    serial_oids=(private("1347.43.5.1.1.28.1"),),
    model_oids=(private("1347.43.5.1.1.1.1"),),
    firmware_oids=(private("1347.43.5.4.1.5.1.1"),),
    counter_oids={
        private("1347.43.10.1.1.12.1.1"): "total",
        f"{_FUNCTION}.2.1.1.1.1": "print_mono",
        f"{_FUNCTION}.2.1.1.1.3": "print_colour",
        f"{_FUNCTION}.2.1.1.2.1": "copy_mono",
        f"{_FUNCTION}.2.1.1.2.3": "copy_colour",
        f"{_FUNCTION}.1.1.1.4": "fax",
        private("1347.46.10.1.1.5.3"): "scan",
    },
    derived={
        "mono": Sum(("print_mono", "copy_mono"), optional=("fax",)),
        "colour": Sum(("print_colour", "copy_colour")),
    },
)
