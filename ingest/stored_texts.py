"""Texts the domain stores in the source language and pages, PDFs and e-mails word for their
reader: billing's notes on invoice lines, why a toner was reordered, alert messages, ticket
history notes.

The domain fills these msgids (``PARTIAL_PERIOD % {...}``) and stores the English result, so
stored rows stay plain text for the API, the CSV exports and the logs; ``worded`` recognises a
filled-in msgid and gives it back in another language with the same values.  Text that matches
none (a note a person typed) is shown as it was written.
"""

from __future__ import annotations

import re
from typing import Final

from ingest.i18n import LABELS, N_, Wording

INTERPOLATED_START: Final = N_("interpolated at start")
INTERPOLATED_END: Final = N_("interpolated at end")
INTERPOLATED_BOTH: Final = N_("interpolated at start and end")
PARTIAL_PERIOD: Final = N_("partial period: %(days)s of %(period)s days")
TRUE_UP: Final = N_("true-up %(window)s")
REORDER_AT_LEVEL: Final = N_("level %(level)s%% at or below %(threshold)s%%")
REORDER_DEVICE_LOW: Final = N_("device reports low")
REORDER_DEVICE_EMPTY: Final = N_("device reports empty")
REORDER_FORECAST: Final = N_("forecast empty in %(days)s days (lead time %(lead)s days)")
ALERT_AGENT_SILENT: Final = N_("Agent %(name)s silent since %(since)s UTC")
ALERT_DEVICE_SILENT: Final = N_("%(name)s not read since %(since)s UTC")
ALERT_SUPPLY_EMPTY: Final = N_("%(name)s: empty in %(days)s days, no reorder open")
ALERT_READ_FLAGGED: Final = N_("%(name)s: meter read flagged (%(flag)s)")
TICKET_OPENED: Final = N_("opened")
TICKET_ASSIGNED: Final = N_("assigned to %(email)s")
TICKET_UNASSIGNED: Final = N_("unassigned")
TICKET_ALERT_CLEARED: Final = N_("Alert cleared: %(message)s")
COLOUR_FROM_PAGES: Final = N_("its readings report %(pages)s colour pages")
COLOUR_FROM_SUPPLIES: Final = N_("it reports %(supplies)s supplies")
COLOUR_NONE: Final = N_("its readings report no colour pages and only black supplies")
COLOUR_NO_READINGS: Final = N_("no readings yet: say whether it prints colour")
BANK_ROW_MATCHED: Final = N_("row %(row)s: %(amount)s paid on invoice %(number)s")
BANK_ROW_NO_INVOICE: Final = N_("row %(row)s: no open invoice quoted in %(text)s")
BANK_ROW_DEBIT: Final = N_("row %(row)s: %(amount)s is a debit, not a payment")
BANK_ROW_NO_CREDIT: Final = N_("row %(row)s: no amount received (a debit)")
BANK_ROW_ALREADY: Final = N_("row %(row)s: already imported")
BANK_ROW_BAD_DATE: Final = N_("row %(row)s: unreadable date %(text)s")
BANK_ROW_BAD_AMOUNT: Final = N_("row %(row)s: unreadable amount %(text)s")
#: No "; " inside: that separates stored notes.
BANK_NO_HEADER: Final = N_(
    "no header row with a date and an amount column (looked for: %(dates)s, and %(amounts)s)"
)
BANK_UNREADABLE_FILE: Final = N_("unreadable file: %(error)s")
STORED_TEXTS: Final = (
    INTERPOLATED_BOTH,
    INTERPOLATED_START,
    INTERPOLATED_END,
    PARTIAL_PERIOD,
    TRUE_UP,
    REORDER_AT_LEVEL,
    REORDER_DEVICE_LOW,
    REORDER_DEVICE_EMPTY,
    REORDER_FORECAST,
    ALERT_AGENT_SILENT,
    ALERT_DEVICE_SILENT,
    ALERT_SUPPLY_EMPTY,
    ALERT_READ_FLAGGED,
    TICKET_OPENED,
    TICKET_ASSIGNED,
    TICKET_UNASSIGNED,
    TICKET_ALERT_CLEARED,
    COLOUR_FROM_PAGES,
    COLOUR_FROM_SUPPLIES,
    COLOUR_NONE,
    COLOUR_NO_READINGS,
    BANK_ROW_MATCHED,
    BANK_ROW_NO_INVOICE,
    BANK_ROW_DEBIT,
    BANK_ROW_NO_CREDIT,
    BANK_ROW_ALREADY,
    BANK_ROW_BAD_DATE,
    BANK_ROW_BAD_AMOUNT,
    BANK_NO_HEADER,
    BANK_UNREADABLE_FILE,
)
#: Filled-in values that are stored codes ("black/cyan") are worded too.
_CODES_IN_VALUES: Final = ("colour",)
NOTE_SEPARATOR: Final = "; "


def _template(msgid: str) -> re.Pattern[str]:
    """A pattern that recognises ``msgid`` filled in, capturing its placeholders."""
    parts = re.split(r"(%\([a-z_]+\)s)", msgid.replace("%%", "%"))
    return re.compile(
        "".join(f"(?P<{p[2:-2]}>.+?)" if p.startswith("%(") else re.escape(p) for p in parts)
    )


_TEMPLATES: Final = tuple((msgid, _template(msgid)) for msgid in STORED_TEXTS)


def worded(text: str | None, words: Wording) -> str:
    """``text`` (stored texts joined by "; ") in the language of ``words``."""
    parts = []
    for part in (text or "").split(NOTE_SEPARATOR):
        for msgid, pattern in _TEMPLATES:
            if match := pattern.fullmatch(part):
                values = {k: _coded(v, words) for k, v in match.groupdict().items()}
                parts.append(words.gettext(msgid, **values))
                break
        else:
            parts.append(part)
    return NOTE_SEPARATOR.join(parts)


def _coded(value: str, words: Wording) -> str:
    """``black/cyan`` as ``nero/ciano``; any other value as it is."""
    codes = value.split("/")
    known = [kind for kind in _CODES_IN_VALUES if all(c in LABELS[kind] for c in codes)]
    return "/".join(words.label(known[0], c) for c in codes) if known else value
