"""HP (Hewlett-Packard) LaserJet / PageWide / OfficeJet behind a JetDirect or embedded server.

Counters come from HP's private print-engine objects (LibreNMS jetdirect definitions);
model and serial also exist as HP PML strings (two control bytes, then text) under the
same tree, used when the standard objects are missing.  The JetDirect sysDescr carries the
printer serial as ``SN:``.
"""

from typing import Final

from agent.vendors.profile import VendorProfile, private, words

_ENGINE: Final = private("11.2.3.9.4.2.1.4.1.2")
_STATUS: Final = private("11.2.3.9.4.2.1.1.3")

PROFILE: Final = VendorProfile(
    key="hp",
    manufacturer="HP",
    names=words("HP", "Hewlett[- ]Packard", "JETDIRECT"),
    enterprises=(11,),
    serial_oids=(f"{_STATUS}.3.0",),
    model_oids=(),
    device_id_oids=(private("11.2.3.9.1.1.7.0"),),
    counter_oids={
        f"{_ENGINE}.5.0": "total",  # totalEnginePageCount
        f"{_ENGINE}.6.0": "mono",  # totalMonoPageCount
        f"{_ENGINE}.7.0": "colour",  # totalColorPageCount
        f"{_ENGINE}.22.0": "duplex",  # duplexPageCount
        private("11.2.3.9.4.2.1.2.2.1.74.0"): "scan",  # scanner lifetime (flatbed + ADF) count
    },
    serial_in_descr=words(r"SN:\s*(?P<serial>[A-Z0-9]{6,20})"),
    printer_contexts=("Jetdirect",),
)
