"""Production settings: a shared secret key is required, cookies are Secure over HTTPS with
HSTS, and rate-limit counts live where every worker sees them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ingest.app import create_app
from ingest.config import ConfigurationError, load_settings
from ingest.db import database
from ingest.limits import storage_uri


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"SCM_INSTANCE_PATH": str(tmp_path), "SCM_PRODUCTION": "1"}
    with pytest.raises(ConfigurationError, match="SCM_SECRET_KEY"):
        load_settings(env)
    assert load_settings({**env, "SCM_SECRET_KEY": "k" * 40}).secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists()  # never a host-local key in production


@pytest.mark.parametrize(
    ("public_url", "flag", "secure"),
    [
        ("https://portale.scm.example", None, True),
        ("http://127.0.0.1:8000", None, False),
        ("http://127.0.0.1:8000", "1", True),  # TLS ends at a proxy in front
        ("https://portale.scm.example", "0", False),
    ],
)
def test_secure_cookies_follow_the_public_url_unless_told(tmp_path, public_url, flag, secure):
    env = {"SCM_INSTANCE_PATH": str(tmp_path), "SCM_PUBLIC_URL": public_url}
    if flag is not None:
        env["SCM_SECURE_COOKIES"] = flag
    assert load_settings(env).secure_cookies is secure


def test_hsts_and_secure_cookie_flags_on_answers(database_url, tmp_path):
    env = {
        "SCM_INSTANCE_PATH": str(tmp_path),
        "SCM_DATABASE_URL": database_url,
        "SCM_PUBLIC_URL": "https://portale.scm.example",
        "SCM_SECRET_KEY": "s" * 40,
    }
    app = create_app(load_settings(env), {"TESTING": True})
    try:
        response = app.test_client().get("/login")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    finally:
        database(app).dispose()


def test_rate_limit_counts_are_shared_through_redis_when_there_is_one():
    assert storage_uri({}) == "memory://"
    assert storage_uri({"SCM_JOB_BROKER": "redis://127.0.0.1:6379/0"}).startswith("redis://")
    assert storage_uri({"SCM_RATELIMIT_STORAGE": "redis://127.0.0.2:6379"}) == (
        "redis://127.0.0.2:6379"
    )


def test_e_mailed_link_secrets_never_reach_a_log():
    import logging

    from ingest.observability import RedactSecrets, redact

    line = '127.0.0.1 - - "GET /password/reset/eyJ1c2VyIjo1fQ.abc HTTP/1.1" 200 -'
    assert "eyJ1c2VyIjo1fQ" not in redact(line) and "/password/reset/…" in redact(line)
    record = logging.LogRecord(
        "werkzeug", 20, "", 0, '"%s %s" %s', ("GET", "/letture/tok3n", 200), None
    )
    RedactSecrets().filter(record)
    assert "tok3n" not in record.getMessage() and "/letture/…" in record.getMessage()


def test_a_web_worker_freezes_what_it_loaded_and_collects_the_young_generation_rarely(tmp_path):
    """What gunicorn runs in each worker once the application is loaded (in a process of its
    own: freezing is for good)."""
    check = (
        "import gc; from ingest.gunicorn_conf import YOUNG_GC_THRESHOLD, post_worker_init; "
        "import ingest.wsgi; post_worker_init(None); "
        "print(gc.get_freeze_count() > 100_000, gc.get_threshold() == YOUNG_GC_THRESHOLD, "
        "gc.get_threshold()[0] > 700)"
    )
    env = {**os.environ, "SCM_INSTANCE_PATH": str(tmp_path), "SCM_JOB_BROKER": ""}
    env["SCM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ingest.sqlite'}"
    done = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
