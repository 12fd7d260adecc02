"""Customers and users: creation and password checks (werkzeug's salted scrypt hashes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ingest.dealer import dealer
from ingest.domain.errors import DomainError
from ingest.i18n import recipient_language, wording
from ingest.models import Customer, User

MIN_PASSWORD_LENGTH = 10
MAX_CODE_LENGTH = 20
#: Users tried when one signs in with the customer code (a customer has a handful of users).
MAX_USERS_PER_CODE = 20
#: Compared against when the e-mail is unknown, so both paths cost one hash (no user probing).
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def get_or_create_customer(session: Session, name: str) -> Customer:
    """The customer called ``name`` (trimmed), created on first use."""
    clean = " ".join(name.split())
    if not clean:
        raise DomainError("bad_customer", "customer name is empty")
    customer = session.scalar(select(Customer).where(Customer.name == clean))
    if customer is None:
        customer = Customer(name=clean, created_at=datetime.now(UTC))
        session.add(customer)
        session.flush()
        customer.code = default_customer_code(customer.id)
        session.flush()
    return customer


def default_customer_code(ident: int) -> str:
    """The code SCM gives a new customer: its number, five digits ("00042")."""
    return f"{ident:05d}"


def set_customer_code(session: Session, customer: Customer, code: str) -> None:
    """Give ``customer`` another code (e.g. the one the ERP knows); codes are unique."""
    customer.code = checked_customer_code(session, customer, code)
    session.flush()


def checked_customer_code(session: Session, customer: Customer, code: str) -> str:
    """``code`` trimmed, if ``customer`` may have it: 1-20 characters, no @ (the sign-in form
    tells codes from e-mails by it), no other customer's (compared case-insensitively)."""
    clean = code.strip()
    if not clean or len(clean) > MAX_CODE_LENGTH or "@" in clean:
        raise DomainError("bad_customer_code", "a customer code is 1-20 characters, no @")
    taken = session.scalar(select(Customer).where(func.lower(Customer.code) == clean.lower()))
    if taken is not None and taken.id != customer.id:
        raise DomainError("customer_code_taken", f"code {clean} belongs to {taken.name}", 409)
    return clean


def find_customer(session: Session, name: str) -> Customer:
    """The customer called ``name``; a clear error when there is none."""
    customer = session.scalar(select(Customer).where(Customer.name == " ".join(name.split())))
    if customer is None:
        raise DomainError("unknown_customer", f"no customer named {name!r}", 404)
    return customer


def create_user(
    session: Session, email: str, password: str, *, customer: Customer | None, staff: bool = False
) -> User:
    """A portal user of ``customer``, or dealer staff; exactly one of the two."""
    if (customer is None) == (not staff):
        raise DomainError("bad_user", "a user belongs to one customer or is staff, not both")
    address = normalise_email(email)
    if "@" not in address:
        raise DomainError("bad_email", f"not an e-mail address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("weak_password", f"password needs {MIN_PASSWORD_LENGTH}+ characters")
    if session.scalar(select(User).where(User.email == address)) is not None:
        raise DomainError("user_exists", f"a user {address} already exists", 409)
    user = User(
        email=address,
        password_hash=generate_password_hash(password),
        customer_id=customer.id if customer else None,
        is_staff=staff,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The active user with these credentials, else None (same cost either way).

    ``login`` is an e-mail address or, as the Italian manual says ("codice utente"), the
    customer code SCM gave out: then the password tells which of the customer's users signs in.
    """
    if "@" in login:
        user = session.scalar(select(User).where(func.lower(User.email) == normalise_email(login)))
        candidates = [user] if user is not None else []
    else:
        candidates = _users_of_code(session, login)
    for user in candidates:
        if check_password_hash(user.password_hash, password) and user.active:
            return user
    if not candidates:
        check_password_hash(_DUMMY_HASH, password)
    return None


def _users_of_code(session: Session, code: str) -> list[User]:
    clean = code.strip().lower()
    if not clean:
        return []
    return list(
        session.scalars(
            select(User)
            .join(Customer, User.customer_id == Customer.id)
            .where(func.lower(Customer.code) == clean, User.active.is_(True))
            .order_by(User.id)
            .limit(MAX_USERS_PER_CODE)
        )
    )


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively here."""
    return email.strip().lower()


_RESET_SALT = "password-reset"
RESET_LINK_MAX_AGE_S = 3600
#: An invitation to a new user lasts longer than a reset: people read mail after a weekend.
INVITE_LINK_MAX_AGE_S = 7 * 24 * 3600


def password_reset_token(user: User, secret_key: str, *, invite: bool = False) -> str:
    """A signed, time-limited token naming the user and a digest of the current password hash:
    once the password changes, every earlier link stops working (single use, nothing stored).
    An invitation is the same link with a longer life."""
    payload = {"u": user.id, "h": _hash_digest(user), **({"k": "invite"} if invite else {})}
    return URLSafeTimedSerializer(secret_key, salt=_RESET_SALT).dumps(payload)


def user_for_reset_token(
    session: Session, token: str, secret_key: str, max_age_s: int = RESET_LINK_MAX_AGE_S
) -> User:
    """The user a valid, unused, unexpired reset link is for."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)
    try:
        data, issued = serializer.loads(
            token, max_age=max(max_age_s, INVITE_LINK_MAX_AGE_S), return_timestamp=True
        )
    except SignatureExpired as err:
        raise DomainError("link_expired", "this link has expired: ask for a new one", 410) from err
    except BadSignature as err:
        raise DomainError("bad_link", "this link is not valid", 404) from err
    limit = (
        INVITE_LINK_MAX_AGE_S
        if isinstance(data, dict) and data.get("k") == "invite"
        else (max_age_s)
    )
    if (datetime.now(UTC) - issued).total_seconds() > limit:
        raise DomainError("link_expired", "this link has expired: ask for a new one", 410)
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("h") != _hash_digest(user):
        raise DomainError("bad_link", "this link is not valid or was already used", 404)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace the user's password (same strength rule as at creation)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("weak_password", f"password needs {MIN_PASSWORD_LENGTH}+ characters")
    user.password_hash = generate_password_hash(password)
    revoke_sessions(session, user)  # a new password signs out every browser that had the old


def active_user_by_email(session: Session, email: str) -> User | None:
    """The active user with this e-mail address, if any."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    return user if user is not None and user.active else None


def reset_mail_text(user: User, link: str) -> tuple[str, str]:
    """The password-reset e-mail ("Password dimenticata"), subject and body, in the user's
    language."""
    words = wording(recipient_language(user, user.customer))
    body = words.gettext(
        "Dear user,\n\n"
        "someone asked to reset the password of the SCM portal for %(email)s. To choose a new "
        "password, open this link within one hour:\n\n%(link)s\n\n"
        "If you did not ask for it, ignore this message: your password stays as it is.\n\n"
        "%(dealer)s",
        email=user.email,
        link=link,
        dealer=dealer().name,
    )
    return words.gettext("SCM portal: new password"), body


def _hash_digest(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:20]


def invite_user(session: Session, customer: Customer, email: str) -> User:
    """A new portal user of ``customer`` who chooses a password through an e-mailed link."""
    return create_user(session, email, secrets.token_urlsafe(32), customer=customer)


def invite_mail_text(user: User, customer: Customer, link: str) -> tuple[str, str]:
    """The invitation e-mail, subject and body, in the customer's language: the portal, the
    account (e-mail or customer code), and the link to choose a password."""
    words = wording(recipient_language(user, customer))
    body = words.gettext(
        "Dear user,\n\n"
        "%(dealer)s has opened an account on the SCM portal for you, for %(customer)s.\n"
        "Sign in with your e-mail address %(email)s or the customer code %(code)s.\n\n"
        "To choose your password, open this link within 7 days:\n\n%(link)s\n\n"
        "In the portal you can see your fleet, enter meter readings, look at invoices, orders "
        "and delivery notes, and ask for assistance.\n\n%(dealer)s",
        dealer=dealer().name,
        customer=customer.name,
        email=user.email,
        code=customer.code or "—",
        link=link,
    )
    return words.gettext("SCM portal: your account"), body


def active_staff(session: Session) -> list[User]:
    """Dealer staff who can sign in, by e-mail (assignees, alert readers)."""
    query = select(User).where(User.is_staff.is_(True), User.active.is_(True)).order_by(User.email)
    return list(session.scalars(query))


def revoke_sessions(session: Session, user: User) -> None:
    """End every session of ``user`` (sign-out, new password, account disabled)."""
    user.session_version += 1
    session.flush()
