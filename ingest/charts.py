"""Charts as server-rendered SVG (pygal): no JavaScript, no CDN, nothing for a page to load
but an image from this site.

Each function takes plain values and already-translated labels and returns the SVG text; the
views serve it as ``image/svg+xml`` with a policy that allows only the chart's own styles.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pygal
from pygal.style import Style

# pygal appends a legacy import hook (for its map plugins, unused here) to sys.meta_path; on
# Python 3.11+ it makes every later failed import emit an ImportWarning. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

#: Response headers for a chart: its inline <style> is allowed, nothing else is.
SVG_HEADERS: Final = {
    "Content-Type": "image/svg+xml; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "private, max-age=300",
}

_SCRIPT: Final = re.compile(r"<script\b.*?</script>", re.DOTALL)
_STYLE: Final = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=("#37474f", "#c2185b", "#1e88e5", "#f9a825", "#43a047", "#8e24aa"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=10,
)


def _config(width: int, height: int) -> dict[str, object]:
    return {
        "js": [],  # pygal's tooltips load a script from a CDN: never from here
        "style": _STYLE,
        "width": width,
        "height": height,
        "legend_at_bottom": True,
        "print_values": False,
        "show_y_guides": True,
        "disable_xml_declaration": True,
        "no_data_text": "—",
    }


def _render(chart: pygal.graph.graph.Graph) -> str:
    """The SVG without pygal's inline configuration script: an image needs no script."""
    return _SCRIPT.sub("", str(chart.render(is_unicode=True)))


def monthly_pages(
    months: Sequence[str],
    mono: Sequence[int | None],
    colour: Sequence[int | None],
    labels: tuple[str, str],
    width: int = 720,
    height: int = 320,
) -> str:
    """Stacked bars: B/W and colour pages per month (None: the reads do not tell)."""
    chart = pygal.StackedBar(**_config(width, height))
    chart.x_labels = list(months)
    chart.add(labels[0], list(mono))
    chart.add(labels[1], list(colour))
    return _render(chart)


def counts_per_month(
    months: Sequence[str], series: dict[str, Sequence[int]], width: int = 720, height: int = 260
) -> str:
    """Stacked bars of counts per month, one series per label (tickets by status)."""
    chart = pygal.StackedBar(**_config(width, height))
    chart.x_labels = list(months)
    for label, values in series.items():
        chart.add(label, list(values))
    return _render(chart)


@dataclass(frozen=True, slots=True)
class TimePoint:
    """One value at one moment."""

    at: datetime
    value: float | None


def over_time(
    series: dict[str, Sequence[TimePoint]],
    width: int = 720,
    height: int = 300,
    y_range: tuple[float, float] | None = None,
    dashed: frozenset[str] = frozenset(),
) -> str:
    """Lines over time (counters, supply levels); ``dashed`` series are forecasts."""
    chart = pygal.DateTimeLine(
        **_config(width, height),
        x_value_formatter=lambda at: at.strftime("%d/%m/%y"),
        x_label_rotation=0,
        show_dots=False,
        range=y_range,
    )
    for label, points in series.items():
        values = [(p.at, p.value) for p in points if p.value is not None]
        style = {"dasharray": "6, 4", "width": 2} if label in dashed else {"width": 2}
        chart.add(label, values, stroke_style=style)
    return _render(chart)
