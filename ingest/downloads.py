"""Files sent to the browser: always as attachments, with any file name made safe.

``send_file`` writes the RFC 6266/5987 ``filename*`` form, so names with accents, quotes or
euro signs download intact instead of breaking the response header.
"""

from __future__ import annotations

import io

from flask import Response, send_file


def download(
    data: bytes | str, filename: str, mimetype: str = "application/octet-stream"
) -> Response:
    """``data`` as a download called ``filename`` (never rendered inline)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    name = "".join(c for c in filename if c.isprintable() and c not in "\\/\r\n") or "download"
    return send_file(
        io.BytesIO(raw), mimetype=mimetype, as_attachment=True, download_name=name[:200], max_age=0
    )
