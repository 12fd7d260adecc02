"""Debian's Chromium driven by Playwright (it cannot download its own browser here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path:
    """The system Chromium; CI (SCM_REQUIRE_BROWSER=1) fails instead of skipping without it."""
    found = os.environ.get("SCM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        if os.environ.get("SCM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (apt-get install chromium) but not installed")
        pytest.skip("no Chromium on this machine: apt-get install chromium to run browser tests")
    return Path(found)
