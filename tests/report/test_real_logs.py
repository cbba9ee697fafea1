"""`servicedelivery report` on the real logs, against independent pandas computations written here.

The report runs through the command line with the shipped status maps; its JSON figures are then
recomputed from the raw CSV with pandas alone: each case's state at the end, what is blocked on whom,
cycle time from the first start to the start of the final completion, and nearest-rank percentiles.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from servicedelivery._cli import main

ROOT = Path(__file__).resolve().parents[2]
MAPS = ROOT / "examples" / "status_maps"
DAY_NS = 86_400 * 10**9

pytestmark = pytest.mark.slow

BPIC_STATES = {
    "Queued": ("planned", None),
    "In Progress": ("in_progress", None),
    "Assigned": ("in_progress", None),
    "Wait - User": ("blocked", "customer"),
    "Wait - Customer": ("blocked", "customer"),
    "Wait - Vendor": ("blocked", "provider"),
    "Wait - Implementation": ("blocked", "service_desk"),
    "Wait": ("blocked", "service_desk"),
}
HELPDESK_STATES = {
    "Insert ticket": ("planned", None),
    "Assign seriousness": ("planned", None),
    "Take in charge ticket": ("in_progress", None),
    "Schedule intervention": ("in_progress", None),
    "Resolve SW anomaly": ("in_progress", None),
    "Wait": ("blocked", "customer"),
    "Require upgrade": ("blocked", "customer"),
    "Create SW anomaly": ("blocked", "service_desk"),
    "Resolve ticket": ("done", None),
    "Closed": ("done", None),
    "VERIFIED": ("done", None),
    "RESOLVED": ("done", None),
    "INVALID": ("cancelled", None),
    "DUPLICATE": ("cancelled", None),
}


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["report", *argv, "--format", "json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def _nearest_rank(values: pd.Series, q: float) -> int:
    ordered = sorted(values.tolist())
    return int(ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1])


def _days(ns: int) -> float:
    return round(ns / DAY_NS, 4)


def _expected(events: pd.DataFrame, group: str | None) -> dict[str, object]:
    """Figures from mapped events: columns case, time (UTC), state, owner, and ``group``."""
    # Ties keep the file's order: a stable sort by time within each case.
    events = events.sort_values(["case", "time"], kind="stable").reset_index(drop=True)
    last = events.groupby("case", sort=False).tail(1).set_index("case")
    states = last["state"].value_counts().to_dict()
    blocked = last[last["state"] == "blocked"]
    started = events[events["state"].isin(["in_progress", "blocked", "done"])]
    start = started.groupby("case")["time"].first()
    previous = events.groupby("case")["state"].shift()
    run_start = (events["state"] == "done") & (previous != "done")
    final_run = events[run_start].groupby("case")["time"].last()
    finished = last.index[last["state"] == "done"]
    # Exact nanoseconds, whatever resolution pandas chose for the column.
    span = final_run.loc[finished] - start.loc[finished]
    cycle = pd.Series(span.to_numpy().astype("timedelta64[ns]").astype("int64"), index=span.index)
    figures: dict[str, object] = {
        "states": states,
        "blocked_by_owner": blocked["owner"].value_counts().to_dict(),
        "p50": _days(_nearest_rank(cycle, 50)),
        "p85": _days(_nearest_rank(cycle, 85)),
        "p95": _days(_nearest_rank(cycle, 95)),
        "cycle_items": len(cycle),
    }
    if group is not None:
        # An item's group is the last value recorded for it.
        values = events.dropna(subset=[group]).groupby("case")[group].last()
        by_group = pd.DataFrame({"cycle": cycle, "group": values.reindex(cycle.index)})
        figures["by_group"] = {
            name: (len(rows), _days(_nearest_rank(rows["cycle"], 85)))
            for name, rows in by_group.groupby("group")
        }
    return figures


def _check(data: dict[str, object], expected: dict[str, object], group: str | None) -> None:
    summary = data["summary"]
    sections = data["sections"]
    assert isinstance(summary, dict)
    assert isinstance(sections, dict)
    states = expected["states"]
    assert isinstance(states, dict)
    for state in ("planned", "in_progress", "blocked", "done", "cancelled"):
        assert summary[state] == states.get(state, 0), state
    assert summary["cycle_time_items"] == expected["cycle_items"]
    assert summary["cycle_time_p50_days"] == pytest.approx(expected["p50"], abs=1e-4)
    assert summary["cycle_time_p85_days"] == pytest.approx(expected["p85"], abs=1e-4)
    assert summary["cycle_time_p95_days"] == pytest.approx(expected["p95"], abs=1e-4)
    owners = {row["owner"]: row["items"] for row in sections["blocked_by_owner"]["rows"]}
    assert owners == expected["blocked_by_owner"]
    if group is not None:
        rows = sections[f"cycle_time_by_{group}"]["rows"]
        found = {row[group]: (row["items"], row["p85_days"]) for row in rows}
        by_group = expected["by_group"]
        assert isinstance(by_group, dict)
        assert found.keys() == by_group.keys()
        for name, (count, p85) in by_group.items():
            assert found[name][0] == count
            assert found[name][1] == pytest.approx(p85, abs=1e-4)


def test_bpic_2013_report_matches_pandas(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "data" / "bpic2013_incidents.csv.gz"
    data = _report(
        capsys,
        str(path),
        "--status-map",
        str(MAPS / "bpic2013_incidents.json"),
        "--attribute",
        "region=resource country",
    )
    raw = pd.read_csv(path)
    activity, transition = raw["concept:name"], raw["lifecycle:transition"]
    mapped = [
        ("done", None)
        if a == "Completed"
        else ("in_progress", None)
        if a == "Unmatched"
        else BPIC_STATES["Queued" if a == "Queued" else t]
        for a, t in zip(activity, transition, strict=True)
    ]
    events = pd.DataFrame(
        {
            "case": raw["case:concept:name"],
            "time": pd.to_datetime(raw["time:timestamp"], utc=True),
            "state": [state for state, _ in mapped],
            "owner": [owner for _, owner in mapped],
            "region": raw["resource country"],
        }
    )
    expected = _expected(events, "region")
    assert expected["cycle_items"] > 7_000
    _check(data, expected, "region")


def test_helpdesk_report_matches_pandas(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "data" / "helpdesk.csv.gz"
    data = _report(capsys, str(path), "--status-map", str(MAPS / "helpdesk.json"))
    raw = pd.read_csv(path)
    mapped = [HELPDESK_STATES[name] for name in raw["concept:name"]]
    events = pd.DataFrame(
        {
            "case": raw["case:concept:name"],
            "time": pd.to_datetime(raw["time:timestamp"], utc=True),
            "state": [state for state, _ in mapped],
            "owner": [owner for _, owner in mapped],
        }
    )
    _check(data, _expected(events, None), None)


def test_servicenow_sample_reports_with_a_source_spec(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ROOT / "examples" / "sources" / "servicenow_incidents.json"
    data = _report(
        capsys, str(ROOT / "data" / "servicenow_incidents_sample.csv.gz"), "--spec", str(spec)
    )
    summary = data["summary"]
    assert isinstance(summary, dict)
    raw = pd.read_csv(ROOT / "data" / "servicenow_incidents_sample.csv.gz")
    assert summary["items"] == raw["number"].nunique()
    assert summary["events"] == len(raw)
    assert data["timezone"] == "UTC"
