"""Monthly pages for the statistics page, from the same boundary rule as billing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ingest.domain.billing import MeterPoint
from ingest.domain.statistics import last_months, pages_per_month


def at(y, m, d):
    return datetime(y, m, d, tzinfo=UTC)


def test_last_six_months_end_with_the_current_one():
    months = last_months(date(2026, 2, 14))
    assert months[0].start == date(2025, 9, 1)
    assert months[-1].start == date(2026, 2, 1)
    assert months[-1].end == date(2026, 3, 1)


def test_pages_per_month_interpolate_between_reads_and_say_when_unknown():
    points = [
        MeterPoint(at(2026, 9, 16), 1000, 100, 1),
        MeterPoint(at(2026, 10, 16), 1300, 130, 2),
        MeterPoint(at(2026, 11, 16), 1900, 160, 3),
    ]
    months = last_months(date(2026, 11, 20), count=4)  # Aug..Nov
    result = pages_per_month(points, months, interpolate=True)
    assert result[0].mono is None  # August: no read before and after
    october = result[2]
    # Oct 1 = 1000 + 300 * 15/30 = 1150; Nov 1 = 1300 + round(600 * 16/31) = 1610
    assert october.mono == 1610 - 1150 and october.colour == 145 - 115


def test_statistics_charts_are_images_of_the_same_numbers(app, client, agent):
    from support.fleet import add_machine
    from support.web import add_user, sign_in

    add_machine(app)
    add_user(app, "anna@rossi.example", "Rossi srl")
    sign_in(client, "anna@rossi.example")
    page = client.get("/statistics?months=12").get_data(as_text=True)
    assert 'src="/statistics/pages.svg?months=12"' in page
    chart = client.get("/statistics/pages.svg?months=12")
    tickets = client.get("/statistics/tickets.svg?months=12")
    assert chart.mimetype == tickets.mimetype == "image/svg+xml"
    assert b"<svg" in chart.data and b"<script" not in chart.data
    # a machine id that is not the customer's is no choice: the chart falls back to all of theirs
    assert client.get("/statistics/pages.svg?machine=99999").data.count(b"<svg") == 1
