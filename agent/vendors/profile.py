"""The shape of vendor knowledge: what one ``agent/vendors/<vendor>.py`` module declares.

A vendor module is data: a :class:`VendorProfile` named ``PROFILE`` saying how to recognise the
vendor, where its serial/model/firmware live and which private OIDs or tables hold which page
counter.  Only vendors that *pack* data (Brother's binary blobs) add a decoder function.  One
generic engine (:mod:`agent.vendors.engine`) reads every profile the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from agent.snmp import Value
from shared.reading import Supply

ENTERPRISES: Final = "1.3.6.1.4.1."


def words(*alternatives: str) -> re.Pattern[str]:
    """A case-insensitive pattern matching any of the given words or phrases as whole words.

    Longer alternatives are tried first, so "TOSHIBA TEC" wins over "TOSHIBA" when the pattern
    strips a maker's name from the front of a model.
    """
    ordered = sorted(alternatives, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(ordered) + r")(?![A-Za-z])", re.I)


def private(suffix: str) -> str:
    """``1.3.6.1.4.1.<suffix>``: vendor tables are long, the common prefix is noise."""
    return ENTERPRISES + suffix


@dataclass(frozen=True, slots=True)
class Brand:
    """An OEM brand sold under another vendor's firmware (Develop on Konica Minolta, ...)."""

    pattern: re.Pattern[str]
    name: str


@dataclass(frozen=True, slots=True)
class CounterTable:
    """A vendor table of page counters, and how each row maps to a contract counter key.

    A row is recognised by its index (``by_index``: the OID suffix after ``value_column``), by
    the integer in a type column (``by_code``) or by its name in a text column (``by_name``, the
    name folded by :func:`fold_name`).  A table known only by index is read with a GET of the
    listed rows; one with a type or name column is walked.
    """

    value_column: str
    by_index: Mapping[str, str] = field(default_factory=dict)
    code_column: str | None = None
    by_code: Mapping[int, str] = field(default_factory=dict)
    name_column: str | None = None
    by_name: Mapping[str, str] = field(default_factory=dict)

    @property
    def walked(self) -> bool:
        """True when rows can only be found by walking (their meaning is in another column)."""
        return self.code_column is not None or self.name_column is not None

    def columns(self) -> tuple[str, ...]:
        """The columns to walk (empty for an index-only table)."""
        if not self.walked:
            return ()
        extra = (self.code_column, self.name_column)
        return (self.value_column, *(column for column in extra if column is not None))

    def scalar_oids(self) -> tuple[str, ...]:
        """The OIDs to GET for an index-only table (empty when the table is walked)."""
        if self.walked:
            return ()
        return tuple(f"{self.value_column}.{index}" for index in self.by_index)

    def keys(self) -> frozenset[str]:
        """Every counter key this table can fill (checked against the contract by a test)."""
        return frozenset({*self.by_index.values(), *self.by_code.values(), *self.by_name.values()})


def fold_name(text: str) -> str:
    """A counter name reduced to lower-case words, so "Black & White: Copy" ~ "black white copy"."""
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


@dataclass(frozen=True, slots=True)
class Sum:
    """A counter the vendor's own meter report defines as the sum of other counters.

    ``parts`` must all be read for the sum to be made; ``optional`` parts count where the
    device reports them and are absent on a device without that function (a copier without
    a fax kit has no fax row), so their absence is not a missing page.
    """

    parts: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def keys(self) -> frozenset[str]:
        """Every counter key the sum reads."""
        return frozenset((*self.parts, *self.optional))


#: The split-counter rule of most colour MFPs: black-and-white and full-colour totals are the
#: print and copy counters of each colour mode (fax pages, where counted, print black).
PRINT_COPY_TOTALS: Final = {
    "mono": Sum(("print_mono", "copy_mono")),
    "colour": Sum(("print_colour", "copy_colour")),
}


@dataclass(frozen=True, slots=True)
class VendorData:
    """What a vendor decoder extracted from packed values."""

    counters: Mapping[str, int] = field(default_factory=dict)
    supplies: tuple[Supply, ...] = ()
    model: str | None = None


Decoder = Callable[[Mapping[str, Value]], VendorData]


@dataclass(frozen=True, slots=True)
class VendorProfile:
    """Everything the generic engine needs to know about one vendor.

    ``names`` recognise the vendor in sysDescr, hrDeviceDescr or an IEEE 1284 ``MFG`` field and
    are also stripped from the front of a model string; ``enterprises`` recognise it from
    sysObjectID when the text is silent.  ``serial_in_descr`` / ``model_in_descr`` pick a named
    group ``serial`` / ``model`` out of sysDescr where a vendor writes them there.

    ``counter_oids`` maps scalar OIDs to contract counter keys and ``counter_tables`` describes
    tables; ``derived`` names counters the vendor defines as sums of others (used only where
    the device does not report them itself, and marked derived in the reading); ``decoder``
    unpacks the vendor blobs found at ``decoder_oids`` and ``decoded_keys`` names the counter
    keys it can fill.  A vendor ``total`` counter, where mapped, is the one the
    vendor bills on and wins over prtMarkerLifeCount.
    """

    key: str
    manufacturer: str
    names: re.Pattern[str]
    enterprises: tuple[int, ...] = ()
    brands: tuple[Brand, ...] = ()
    serial_oids: tuple[str, ...] = ()
    model_oids: tuple[str, ...] = ()
    firmware_oids: tuple[str, ...] = ()
    device_id_oids: tuple[str, ...] = ()
    counter_oids: Mapping[str, str] = field(default_factory=dict)
    counter_tables: tuple[CounterTable, ...] = ()
    serial_in_descr: re.Pattern[str] | None = None
    model_in_descr: re.Pattern[str] | None = None
    derived: Mapping[str, Sum] = field(default_factory=dict)
    decoder: Decoder | None = None
    decoder_oids: tuple[str, ...] = ()
    decoded_keys: frozenset[str] = frozenset()
    #: SNMP contexts where some of the vendor's network cards keep the Printer-MIB when the
    #: default context holds only the system group (HP JetDirect's "Jetdirect").
    printer_contexts: tuple[str, ...] = ()

    def scalar_oids(self) -> tuple[str, ...]:
        """Every scalar to GET once the vendor is known (second round trip)."""
        oids = [
            *self.serial_oids,
            *self.model_oids,
            *self.firmware_oids,
            *self.device_id_oids,
            *self.counter_oids,
            *self.decoder_oids,
        ]
        for table in self.counter_tables:
            oids.extend(table.scalar_oids())
        return tuple(dict.fromkeys(oids))

    def table_columns(self) -> tuple[str, ...]:
        """Every vendor column to walk alongside the standard ones."""
        columns: list[str] = []
        for table in self.counter_tables:
            columns.extend(table.columns())
        return tuple(dict.fromkeys(columns))

    def counter_keys(self) -> frozenset[str]:
        """Every counter key the profile can fill (a test checks they are contract keys)."""
        keys = set(self.counter_oids.values()) | self.decoded_keys
        for table in self.counter_tables:
            keys |= table.keys()
        return frozenset(keys)
