"""A pain trend chart drawn on the server as SVG geometry: no chart library, no script, no inline style."""

import datetime
from dataclasses import dataclass

from recovery import rules
from recovery.models import SafetyThresholds

# Four weeks, as the progress page's calendar.
CHART_DAYS = 28
WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 28, 8, 10, 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    date: object
    pain: int


def pain_chart(series, first, last, *, ease_off_from, alert_from):
    """Place each (date, pain) of ``series`` between the dates ``first`` and ``last`` on a 0–10 scale."""
    span = max((last - first).days, 1)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM

    def x_of(date):
        return round(LEFT + plot_width * (date - first).days / span, 1)

    def y_of(pain):
        return round(TOP + plot_height * (10 - pain) / 10, 1)

    points = [Point(x_of(date), y_of(pain), date, pain) for date, pain in series]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": points,
        "polyline": " ".join(f"{point.x},{point.y}" for point in points),
        "gridlines": [{"y": y_of(level), "label": level} for level in (0, 2, 4, 6, 8, 10)],
        "left": LEFT,
        "plot_width": plot_width,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        # Shaded bands for the traffic light: amber from the ease-off level, red from the alert level.
        "red_band": {"y": y_of(10), "height": round(y_of(alert_from - 0.5) - y_of(10), 1)},
        "amber_band": {
            "y": y_of(alert_from - 0.5),
            "height": round(y_of(ease_off_from - 0.5) - y_of(alert_from - 0.5), 1),
        },
        "first": first,
        "last": last,
        "ease_off_from": ease_off_from,  # the bands' legend
        "alert_from": alert_from,
    }


def pain_chart_for(facts, today):
    """The pain scores of the last ``CHART_DAYS`` days, from race day on a younger plan (so that a week-old plan's
    scores are not squeezed into the chart's last quarter), and their chart, banded by the clinic's thresholds."""
    first = max(facts.race_date, today - datetime.timedelta(days=CHART_DAYS - 1))
    series = rules.pain_series(facts.pain_by_date, rules.last_days(today, (today - first).days + 1))
    thresholds = SafetyThresholds.current()
    chart = pain_chart(
        series, first, today, ease_off_from=thresholds.ease_off_pain_from, alert_from=thresholds.alert_pain_from
    )
    return series, chart
