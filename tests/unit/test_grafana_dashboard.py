"""docs/grafana-dashboard.json parses and asks only for metrics Berth defines."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

from berth import metrics

REPO = Path(__file__).resolve().parents[2]


def defined() -> set[str]:
    names: set[str] = set()
    for metric in REGISTRY.collect():
        names |= {sample.name for sample in metric.samples} | {metric.name}
    # Families of the store's state are made per scrape: their names, from the module.
    source = Path(metrics.__file__).read_text()
    names |= set(re.findall(r'"(berth_[a-z_]+)"', source))
    return names


def test_every_panel_queries_a_metric_berth_exports() -> None:
    dashboard = json.loads((REPO / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bberth_[a-z_]+", expr)}
    known = defined() | {f"{n}_bucket" for n in defined()} | {f"{n}_total" for n in defined()}
    known |= {f"{n}_count" for n in defined()}

    assert exprs
    assert used - known == set()
    assert {"berth_http_request_duration_seconds_bucket", "berth_projection_lag_events"} <= used
