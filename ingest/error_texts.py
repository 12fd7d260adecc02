"""Refused operations worded for people, in the page's language.

A ``DomainError`` carries a stable ``code`` and an English message (the source text for the
API, the CLI and the logs).  Pages show a message in the reader's language: the message itself
when it is a fixed sentence listed here (its English text is the msgid), else the words for its
code, else the words for its HTTP status.  Messages with values in them (a number, a name) are
worded by code, the page around them already shows the value.
"""

from __future__ import annotations

from typing import Final

from flask_babel import get_locale, gettext

from ingest.domain.errors import DomainError
from ingest.domain.meters import MANUAL_READ_MAX_AGE
from ingest.domain.tickets import MAX_ATTACHMENTS
from ingest.i18n import N_, SOURCE_LANGUAGE, is_msgid

#: Fixed sentences raised by the domain, translated as they are.
MESSAGES: Final = frozenset(
    {
        N_("a payment must be positive"),
        N_("an item of the cart is not available"),
        N_("a contract cannot end before it starts"),
        N_("rates, fees and volumes cannot be negative"),
        N_("customer name is empty"),
        N_("a customer code is 1-20 characters, no @"),
        N_("this link is not valid or was already used"),
        N_("this link is not valid"),
        N_("the location cannot be empty"),
        N_("a machine needs an ID SCM and a serial number"),
        N_("the device belongs to another customer"),
        N_("a reading cannot be dated in the future"),
        N_("counters cannot be negative"),
        N_("this machine is mono: the colour counter must be 0"),
        N_("contact and office hours are required"),
        N_("unknown payment method"),
        N_("unknown status"),
        N_("an attachment is over 5 MB"),
        N_("subject, description and contact are required"),
        N_("unknown priority or team"),
        N_("unknown carrier kind or freight terms"),
        N_("a user belongs to one customer or is staff, not both"),
        N_("name the carrier who takes the goods"),
        N_("the cart is empty"),
        N_("unknown enrollment token"),
        N_("this public key is already enrolled"),
        N_("this link has expired: ask for a new one"),
        N_("this machine is already linked to another device"),
        N_("no SMTP server configured (SCM_SMTP_HOST)"),
        N_("no earlier billable read to continue from"),
        N_("only a flagged read can be resolved"),
        N_("no such machine"),
        N_("this reading has already been received"),
        N_("this enrollment token has expired"),
        N_("this enrollment token was already used"),
        N_("unknown or disabled agent"),
        N_("device and machine belong to different customers"),
        N_("the machine has a contract for these dates"),
        N_("this batch id was already used for a different body"),
        N_("tickets are assigned to active staff only"),
        N_("a post needs a title"),
        N_("offers and documents belong to one customer"),
        N_("the file is over 20 MB"),
        N_("a printer is silent after 1 to 720 hours"),
        N_("an agent is silent after 15 minutes to 7 days"),
        N_("the reorder lead time is 0 to 90 days"),
        N_("the reorder threshold is 0 to 100 %"),
        N_("a token needs a name"),
        N_("the URL must start with https:// (or http://)"),
        N_("the reorder is no longer open"),
        N_("the order of this reorder is already shipped"),
        N_("this signed request was already answered"),
    }
)

#: The words for each code, for messages that carry values.
BY_CODE: Final = {
    "already_invoiced": N_("These days are already invoiced: correct them with a credit note."),
    "already_shipped": N_("This delivery note was already shipped."),
    "bad_action": N_("Unknown decision."),
    "bad_amount": N_("The amount is not valid."),
    "bad_article": N_("The article data are not valid."),
    "bad_cart": N_("An item of the cart cannot be ordered for this machine."),
    "bad_contract": N_("The contract data are not valid."),
    "bad_credit_note": N_("The credit note is not valid."),
    "bad_customer": N_("The customer data are not valid."),
    "bad_customer_code": N_("The customer code is not valid."),
    "bad_email": N_("This is not an e-mail address."),
    "bad_language": N_("Unknown language."),
    "bad_link": N_("This link is not valid."),
    "bad_location": N_("The location is not valid."),
    "bad_machine": N_("The machine data are not valid."),
    "bad_packages": N_("The number of parcels is not valid."),
    "bad_period": N_("The month is not valid (YYYY-MM)."),
    "bad_post": N_("The post is not valid."),
    "bad_settings": N_("The settings are not valid."),
    "bad_webhook": N_("The webhook is not valid."),
    "bad_read": N_(
        "A reading can be dated at most %(days)d days back: please read the counters now."
    ),
    "bad_shipping": N_("The shipping data are not valid."),
    "bad_status": N_("Unknown status."),
    "bad_ticket": N_("At most %(count)d attachments of 5 MB each."),
    "bad_transport": N_("The transport data are not valid."),
    "bad_user": N_("The user data are not valid."),
    "batch_id_reused": N_("This batch was already received with another content."),
    "carrier_needed": N_("Name the carrier who takes the goods."),
    "colour_missing": N_("Give the colour counter too: this machine prints colour."),
    "colour_unknown": N_("Whether the machine prints colour is unknown: say it."),
    "duplicate_release": N_("This agent release exists already."),
    "customer_code_taken": N_("This customer code belongs to another customer."),
    "empty_cart": N_("The cart is empty."),
    "header_mismatch": N_("The request is not consistent."),
    "invalid_config": N_("The agent configuration is not valid."),
    "invalid_release": N_("The agent release is not valid."),
    "invalid_token": N_("Unknown enrollment token."),
    "key_in_use": N_("This key is already enrolled."),
    "link_expired": N_("This link has expired: ask for a new one."),
    "machine_exists": N_("This machine is already registered."),
    "machine_linked": N_("This machine is already linked to another device."),
    "mail_disabled": N_("E-mail is not configured."),
    "malformed_heartbeat": N_("The request is not valid."),
    "malformed_request": N_("The request is not valid."),
    "needs_confirmation": N_("Some values are outside the usual bounds: confirm them."),
    "no_contract": N_("No contract of this machine is in force on that day."),
    "no_previous": N_("No earlier billable reading to continue from."),
    "not_flagged": N_("Only a flagged reading can be resolved."),
    "not_found": N_("Not found."),
    "not_offered": N_("This agent release is not offered to this agent."),
    "not_shipped": N_("This delivery note has not been shipped yet."),
    "overlapping_contract": N_("The machine has a contract for these dates."),
    "period_open": N_("This month has not ended yet: bill it to date or wait."),
    "request_closed": N_("This reading has already been received."),
    "retry": N_("Please try again in a moment."),
    "run_held": N_("Some lines are held: release them or wait."),
    "token_expired": N_("This enrollment token has expired."),
    "token_used": N_("This enrollment token was already used."),
    "unknown_agent": N_("Unknown agent."),
    "unknown_customer": N_("Unknown customer."),
    "unknown_release": N_("Unknown agent release."),
    "user_exists": N_("A user with this e-mail address already exists."),
    "weak_password": N_("The password needs at least 10 characters."),
    "wrong_customer": N_("Device and machine belong to different customers."),
}

BY_STATUS: Final = {
    404: N_("Not found."),
    409: N_("This is in conflict with what is already stored."),
    410: N_("This is no longer available."),
}
GENERIC: Final = N_("The operation is not possible.")
#: The limits some of the texts above name.
_LIMITS: Final = {"days": MANUAL_READ_MAX_AGE.days, "count": MAX_ATTACHMENTS}


def error_text(err: DomainError) -> str:
    """What a page says about ``err``, in the page's language: the message itself when it is a
    fixed sentence of the catalog or the page is English (the source language, so the message
    with its values is the best words), else the words for its code."""
    if err.message in MESSAGES or is_msgid(err.message):
        return gettext(err.message)
    if str(get_locale()) == SOURCE_LANGUAGE:
        return err.message
    return gettext(BY_CODE.get(err.code) or BY_STATUS.get(err.status) or GENERIC, **_LIMITS)
