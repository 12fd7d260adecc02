"""The demo's mailbox page: what reached the SMTP sink, for staff, only when configured."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

from support.web import add_user, sign_in


def test_staff_read_what_the_demo_sent(app, client, tmp_path, monkeypatch):
    add_user(app, "staff@scm.example", staff=True)
    sign_in(client, "staff@scm.example")
    assert client.get("/ops/demo-mail").status_code == 404  # not the demo: no page
    folder = tmp_path / "mail"
    box = mailbox.Maildir(folder)
    message = EmailMessage()
    message["To"] = "referente@demo.example"
    message["Subject"] = "Portale SCM: nuova password"
    message.set_content("Apra il link per scegliere la password.")
    box.add(message)
    monkeypatch.setenv("SCM_DEMO_MAILDIR", str(folder))
    page = client.get("/ops/demo-mail").get_data(as_text=True)
    assert "Portale SCM: nuova password" in page and "scegliere la password" in page
