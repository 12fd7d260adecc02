"""WSGI entry point: ``gunicorn -c ingest/gunicorn_conf.py ingest.wsgi:app``."""

import logging

from ingest.app import create_app
from ingest.observability import configure_logging

configure_logging(logging.INFO)
app = create_app()
