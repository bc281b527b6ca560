"""Server-side SVG bar charts: the geometry of the bars, the template draws them.

Pure: values in, rectangles out (in the chart's own coordinates, 0,0 top left),
each with a label for its tooltip and screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WIDTH = 720
HEIGHT = 180
GAP = 1


@dataclass(frozen=True, kw_only=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    warn: bool = False


@dataclass(frozen=True, kw_only=True)
class Chart:
    title: str
    bars: list[Bar]
    top: str  # what the top line means, e.g. "100 %"
    width: int = WIDTH
    height: int = HEIGHT
    first: str = ""
    last: str = ""


def bars(
    title: str,
    points: list[tuple[str, float, str]],
    *,
    ceiling: float | None = None,
    top: str = "",
    warn_at: float | None = None,
) -> Chart:
    """A bar per (name, value, label); heights relative to `ceiling` (default: the largest)."""
    highest = ceiling if ceiling is not None else max((v for _, v, _ in points), default=0)
    highest = highest or 1
    step = WIDTH / max(len(points), 1)
    drawn = []
    for i, (_name, value, label) in enumerate(points):
        height = max(0.0, min(value / highest, 1.0)) * HEIGHT
        drawn.append(
            Bar(
                x=round(i * step, 2),
                y=round(HEIGHT - height, 2),
                width=round(max(step - GAP, 1), 2),
                height=round(height, 2),
                label=label,
                warn=warn_at is not None and value >= warn_at,
            )
        )
    return Chart(
        title=title,
        bars=drawn,
        top=top,
        first=points[0][0] if points else "",
        last=points[-1][0] if points else "",
    )


def occupancy_chart(pool: dict[str, Any], nights: list[dict[str, Any]]) -> Chart:
    points = []
    for night in nights:
        sold = night["held"] + night["confirmed"]
        share = sold / night["capacity"] if night["capacity"] else 0.0
        label = f"{night['night']}: {sold} of {night['capacity']} sold ({share:.0%})"
        points.append((night["night"].isoformat(), share, label))
    return bars(f"Occupancy, {pool['name']}", points, ceiling=1.0, top="100 %", warn_at=0.9)


def revenue_chart(days: list[dict[str, Any]], currency: str, first: date, last: date) -> Chart:
    """A bar per day from `first` to `last`, days without revenue at zero."""
    by_day = {d["date"]: int(d["revenue"]) for d in days}
    points = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        amount = by_day.get(day, 0)
        points.append((day.isoformat(), float(amount), f"{day}: {amount / 100:,.2f} {currency}"))
    highest = max((p[1] for p in points), default=0)
    return bars(
        "Revenue per day (net of tax)", points, top=f"{highest / 100:,.2f} {currency}".strip()
    )
