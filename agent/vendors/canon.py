"""Canon imageRUNNER / i-SENSYS / LBP.

Canon exposes its service-mode counters by counter code under ``1602.1.11.1.3.1.4.<code>``:
101 "Total 1" (the counter Canon bills on; it can differ from prtMarkerLifeCount), 105
"Total (Full Color 1)", 108 "Total (Black 1)", 501 "Scan (Total 1)".  Codes a model does not
implement are simply absent.
"""

from typing import Final

from agent.vendors.profile import CounterTable, VendorProfile, private, words

PROFILE: Final = VendorProfile(
    key="canon",
    manufacturer="Canon",
    names=words("Canon"),
    enterprises=(1602,),
    model_oids=(private("1602.1.1.1.1.0"),),
    firmware_oids=(private("1602.1.1.1.4.0"),),
    counter_tables=(
        CounterTable(
            value_column=private("1602.1.11.1.3.1.4"),
            by_index={"101": "total", "105": "colour", "108": "mono", "501": "scan"},
        ),
    ),
)
