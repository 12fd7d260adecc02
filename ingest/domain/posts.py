"""What the dealer publishes in the portal: news for everyone, offers and documents ("Infobox")
for one customer, each with an optional attachment (a PDF offer, a signed contract)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.errors import DomainError
from ingest.models import Customer, Post

KINDS: Final = ("news", "offer", "document")
MAX_FILE_BYTES: Final = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PostRequest:
    """A post as staff write it; ``data`` is the attachment's bytes (None: no file)."""

    kind: str
    title: str
    body: str = ""
    customer: Customer | None = None
    filename: str | None = None
    data: bytes | None = None


def publish(session: Session, request: PostRequest, now: datetime) -> Post:
    """Publish a post; offers and documents always belong to one customer."""
    if request.kind not in KINDS:
        raise DomainError("bad_post", f"kind must be one of {', '.join(KINDS)}")
    if request.kind != "news" and request.customer is None:
        raise DomainError("bad_post", "offers and documents belong to one customer")
    if not request.title.strip():
        raise DomainError("bad_post", "a post needs a title")
    if request.data is not None and len(request.data) > MAX_FILE_BYTES:
        raise DomainError("bad_post", "the file is over 20 MB", 413)
    post = Post(
        kind=request.kind,
        customer_id=request.customer.id if request.customer else None,
        title=request.title.strip()[:200],
        body=request.body.strip(),
        filename=(request.filename or "file")[:200] if request.data is not None else None,
        data=request.data,
        published_at=now,
    )
    session.add(post)
    session.flush()
    return post


def withdraw(session: Session, post_id: int) -> None:
    """Take a post off the portal."""
    post = session.get(Post, post_id)
    if post is None:
        raise DomainError("not_found", "no such post", 404)
    session.delete(post)
    session.flush()


def all_posts(session: Session) -> list[Post]:
    """Every post, newest first (the staff list)."""
    return list(session.scalars(select(Post).order_by(Post.published_at.desc(), Post.id.desc())))
