"""Ricoh, and its OEM brands Lanier, Savin, Gestetner, NRG, Nashuatec, Rex-Rotary.

Ricoh's engine counter table (``ricohEngCounter``, ``367.3.2.1.2.19.5.1``) lists one row
per counter; row numbers differ between model families, but column 2 carries a stable
type code (10 machine total, 201/203 copy black & white / full colour, 300 fax,
401/403 print black & white / full colour) and column 9 the value.
"""

from typing import Final

from agent.vendors.profile import Brand, CounterTable, VendorProfile, private, words

_ENGINE: Final = private("367.3.2.1.2.19.5.1")

PROFILE: Final = VendorProfile(
    key="ricoh",
    manufacturer="Ricoh",
    names=words(
        "RICOH", "LANIER", "SAVIN", "GESTETNER", "NRG", "Nashuatec", "Rex[- ]Rotary", "Infotec"
    ),
    enterprises=(367,),
    brands=(
        Brand(words("LANIER"), "Lanier"),
        Brand(words("SAVIN"), "Savin"),
        Brand(words("GESTETNER"), "Gestetner"),
        Brand(words("NRG"), "NRG"),
        Brand(words("Nashuatec"), "Nashuatec"),
        Brand(words("Rex[- ]Rotary"), "Rex-Rotary"),
        Brand(words("Infotec"), "Infotec"),
    ),
    serial_oids=(private("367.3.2.1.2.1.4.0"),),
    model_oids=(private("367.3.2.1.1.1.1.0"),),
    firmware_oids=(private("367.3.2.1.1.1.2.0"),),
    counter_tables=(
        CounterTable(
            value_column=f"{_ENGINE}.9",
            code_column=f"{_ENGINE}.2",
            by_code={
                10: "total",
                201: "copy_mono",
                203: "copy_colour",
                300: "fax",
                401: "print_mono",
                403: "print_colour",
            },
        ),
    ),
)
