"""Sharp MX multifunction printers.

Sharp keeps its counters in one table: column 3 the value, column 4 the counter's name,
indexed ``<function>.<sheet>.<colour mode>`` (function 1 print, 4 copy, 5 machine total;
colour mode 61 black & white, 63 full colour; ``1.4.75`` duplex).  Names are matched first
(as LibreNMS does); the index is the fallback for firmware that localises the names.
"""

from typing import Final

from agent.vendors.profile import CounterTable, VendorProfile, fold_name, private, words

_TABLE: Final = private("2385.1.1.19.2.1")

PROFILE: Final = VendorProfile(
    key="sharp",
    manufacturer="Sharp",
    names=words("SHARP"),
    enterprises=(2385,),
    firmware_oids=(private("2385.2.1.1.2.1.2.1"),),
    counter_tables=(
        CounterTable(
            value_column=f"{_TABLE}.3",
            name_column=f"{_TABLE}.4",
            by_name={
                fold_name("Black & White Print Count"): "print_mono",
                fold_name("Full Color Print Count"): "print_colour",
                fold_name("Black & White Copy Count"): "copy_mono",
                fold_name("Full Color Copy Count"): "copy_colour",
                fold_name("Black & White Total Count"): "mono",
                fold_name("Full Color Total Count"): "colour",
                fold_name("Duplex"): "duplex",
            },
            by_index={
                "1.4.61": "print_mono",
                "1.4.63": "print_colour",
                "4.4.61": "copy_mono",
                "4.4.63": "copy_colour",
                "5.4.61": "mono",
                "5.4.63": "colour",
                "1.4.75": "duplex",
            },
        ),
    ),
)
