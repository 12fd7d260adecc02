"""The one error type domain functions raise; the API maps ``status`` and ``code`` onto HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation, with a machine-readable ``code`` and the HTTP status it deserves."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
