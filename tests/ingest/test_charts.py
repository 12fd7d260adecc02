"""Server-rendered charts: valid SVG, the series asked for, nothing loaded from elsewhere."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from ingest.charts import TimePoint, counts_per_month, monthly_pages, over_time

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def external_references(svg: str) -> set[str]:
    """URLs other than the SVG namespace and pygal's credit comments."""
    without_comments = re.sub(r"<!--.*?-->", "", svg)
    return set(re.findall(r"https?://[^\"' )<]+", without_comments)) - {
        "http://www.w3.org/2000/svg"
    }


def test_monthly_pages_are_stacked_bars_with_translated_labels():
    svg = monthly_pages(["09/2026", "10/2026"], [5500, 5200], [800, None], ("B/N", "Colore"))
    words = texts(svg)
    assert {"B/N", "Colore", "09/2026", "10/2026"} <= set(words)
    bars = ET.fromstring(svg).findall(f".//{SVG}rect[@class='rect reactive tooltip-trigger']")
    assert sum(float(bar.get("height", 0)) > 0 for bar in bars) == 3  # October's colour is unknown
    assert external_references(svg) == set()
    assert "<script" not in svg


def test_lines_over_time_with_a_dashed_forecast():
    start = datetime(2026, 9, 1, tzinfo=UTC)
    level = [TimePoint(start + timedelta(days=d), 90 - 2 * d) for d in range(10)]
    forecast = [TimePoint(level[-1].at, level[-1].value), TimePoint(start + timedelta(days=45), 0)]
    svg = over_time(
        {"Nero": level, "Previsione": forecast}, dashed=frozenset({"Previsione"}), y_range=(0, 100)
    )
    assert {"Nero", "Previsione"} <= set(texts(svg))
    assert "dasharray:6,4" in svg
    assert external_references(svg) == set()


def test_counts_per_month():
    svg = counts_per_month(["09/2026"], {"Richiesto": [2], "Chiuso": [5]})
    assert {"Richiesto", "Chiuso"} <= set(texts(svg))
