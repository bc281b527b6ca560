"""The screen's pure parts: SVG bar geometry and the night audit's share per night."""

from __future__ import annotations

from datetime import date

from berth.web import charts
from berth.web.pages.night_audit import night_share


def test_bars_are_relative_to_the_ceiling_and_never_overflow_it() -> None:
    chart = charts.bars("t", [("a", 0.5, "half"), ("b", 2.0, "over"), ("c", 0.0, "none")],
                        ceiling=1.0, warn_at=0.9)  # fmt: skip
    half, over, none = chart.bars
    assert half.height == charts.HEIGHT / 2 and half.y == charts.HEIGHT / 2
    assert over.height == charts.HEIGHT and over.y == 0 and over.warn
    assert none.height == 0 and not none.warn
    assert (chart.first, chart.last) == ("a", "c")


def test_revenue_chart_has_a_bar_for_every_day_including_days_without_revenue() -> None:
    days = [{"date": date(2030, 6, 2), "revenue": 5000}]
    chart = charts.revenue_chart(days, "EUR", date(2030, 6, 1), date(2030, 6, 3))
    assert [bar.height for bar in chart.bars] == [0, charts.HEIGHT, 0]
    assert chart.bars[1].label == "2030-06-02: 50.00 EUR"


def test_without_a_breakdown_the_nights_shares_add_up_to_the_total_the_last_taking_the_rest() -> (
    None
):
    row = {"arrival": date(2030, 6, 1), "departure": date(2030, 6, 4), "total": 1000}
    shares = [night_share(row, date(2030, 6, day)) for day in (1, 2, 3)]
    assert shares == [333, 333, 334] and sum(shares) == 1000


def test_a_night_sold_under_a_plan_previews_its_own_price_times_the_quantity() -> None:
    row = {"arrival": date(2030, 6, 1), "departure": date(2030, 6, 4), "total": 14000,
           "quantity": 2, "night_prices": [3000, 3000, 1000]}  # fmt: skip
    shares = [night_share(row, date(2030, 6, day)) for day in (1, 2, 3)]
    assert shares == [6000, 6000, 2000]
