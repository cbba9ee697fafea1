"""The portfolio report against a slow, obvious reference, and its shapes and inputs."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import attrs
import pendulum
import pytest
from hypothesis import given, settings

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import (
    NO_TARGET,
    InMemoryEventLog,
    MilestonePlanned,
    TargetDateChanged,
)
from servicedelivery.metrics import EventFrame
from servicedelivery.model import DEFAULT_TAXONOMY, NS_PER_DAY, OWNERS, STATES, to_epoch_ns
from servicedelivery.policy import evaluate, forecast_completion
from servicedelivery.report import (
    AGING_BUCKETS,
    SCHEMA,
    SECTIONS,
    SUMMARY_KEYS,
    PortfolioReport,
    ReportTable,
    TargetDates,
    portfolio_report,
)
from servicedelivery.report._demo import DEMO_POLICIES, DEMO_SLA
from servicedelivery.sla import sla_clock
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail
from tests.metrics import reference
from tests.metrics.strategies import histories

NOW = pendulum.datetime(2026, 1, 5, 9, tz="UTC")


def _frame(columns: dict[str, list[object]]) -> EventFrame:
    return EventFrame.from_columns(
        columns,
        item="item",
        time="time",
        state="state",
        owner="owner",
        reason="reason",
        attributes=["provider"],
    )


def _days(ns: int) -> float:
    return round(ns / NS_PER_DAY, 4)


@settings(deadline=None)
@given(histories())
def test_blocked_and_aging_sections_match_a_slow_reference(
    history: tuple[dict[str, list[object]], int],
) -> None:
    columns, now = history
    frame = _frame(columns)
    rows = reference.rows_from_columns(columns)
    eps = reference.episodes(rows, now)
    if not eps:  # every event comes after now
        with pytest.raises(ValidationError):
            portfolio_report(frame, now=now)
        return
    report = portfolio_report(frame, now=now, oldest=100)

    # Blocked now: each item's last episode; its run of blocked episodes starts where the item
    # last was not blocked.
    blocked: dict[str, tuple[int, str, str]] = {}
    for item, item_eps in eps.items():
        if item_eps[-1].state != "blocked":
            continue
        first = len(item_eps) - 1
        while first > 0 and item_eps[first - 1].state == "blocked":
            first -= 1
        blocked[item] = (item_eps[first].start, item_eps[-1].owner, item_eps[-1].reason)
    assert report.summary["blocked"] == len(blocked)
    by_owner = report["blocked_by_owner"]
    assert dict(zip(by_owner.column("owner"), by_owner.column("items"), strict=True)) == Counter(
        owner for _, owner, _ in blocked.values()
    )
    by_reason = report["blocked_by_reason"]
    assert dict(zip(by_reason.column("reason"), by_reason.column("items"), strict=True)) == (
        Counter(reason for _, _, reason in blocked.values())
    )
    for owner, maximum in zip(
        by_owner.column("owner"), by_owner.column("max_blocked_days"), strict=True
    ):
        expected = max(now - since for since, o, _ in blocked.values() if o == owner)
        assert maximum == _days(expected)
    # A provider is each item's last one recorded.
    providers: dict[str, object] = {}
    for row in sorted(rows, key=lambda r: r.time):
        if row.time <= now and row.provider is not None:
            providers[row.item] = row.provider
    by_provider = report["blocked_by_provider"]
    assert dict(
        zip(by_provider.column("provider"), by_provider.column("items"), strict=True)
    ) == Counter(providers.get(item) for item in blocked)

    oldest = report["oldest_blocked"]
    assert sorted(oldest.column("item")) == sorted(blocked)
    assert [int(v) for v in oldest.column("blocked_since")] == sorted(
        since for since, _, _ in blocked.values()
    )

    # Aging: open, started items by bucket of age.
    ages = reference.ages(
        rows, now, start={"in_progress", "blocked"}, end={"done"}, reopened="span"
    )
    expected_buckets = Counter(
        max(b for b, low in enumerate(AGING_BUCKETS) if now - start >= low * NS_PER_DAY)
        for start, _ in ages.values()
    )
    aging = report["aging"]
    assert aging.column("items").tolist() == [
        expected_buckets[b] for b in range(len(AGING_BUCKETS))
    ]
    assert int(aging.column("blocked").sum()) == sum(
        1 for _, state in ages.values() if state == "blocked"
    )
    assert report.summary["aging_items"] == len(ages)


@settings(deadline=None, max_examples=30)
@given(histories(max_items=8, max_rows=40))
def test_cycle_time_by_provider_matches_nearest_rank_per_group(
    history: tuple[dict[str, list[object]], int],
) -> None:
    columns, now = history
    frame = _frame(columns)
    rows = reference.rows_from_columns(columns)
    if not reference.episodes(rows, now):
        return
    report = portfolio_report(frame, now=now)
    cycles = reference.cycle_times(
        rows, now, start={"in_progress", "blocked"}, end={"done"}, reopened="span"
    )
    providers: dict[str, object] = {}
    for row in sorted(rows, key=lambda r: r.time):
        if row.time <= now and row.provider is not None:
            providers[row.item] = row.provider
    groups: dict[object, list[int]] = defaultdict(list)
    for item, (start, end) in cycles.items():
        groups[providers.get(item)].append(end - start)
    table = report["cycle_time_by_provider"]
    found = {
        provider: (count, p85)
        for provider, count, p85 in zip(
            table.column("provider"),
            table.column("items"),
            table.column("p85_days"),
            strict=True,
        )
    }
    expected = {}
    for provider, values in groups.items():
        values.sort()
        rank = max(math.ceil(0.85 * len(values)), 1)
        expected[provider] = (len(values), _days(values[rank - 1]))
    assert found == expected


@pytest.fixture(scope="module")
def trail_frame() -> tuple[EventFrame, TargetDates]:
    log = InMemoryEventLog()
    for stream_id, events in synthetic_trail(synthetic_portfolio(orders=120, seed=4), seed=4):
        log.append(stream_id, events)
    columns = log.read_columns()
    return EventFrame.from_event_columns(columns), TargetDates.from_event_columns(columns)


@pytest.fixture(scope="module")
def trail_report(trail_frame: tuple[EventFrame, TargetDates]) -> PortfolioReport:
    frame, targets = trail_frame
    return portfolio_report(frame, now=NOW, source="test", targets=targets)


def test_every_section_has_its_columns_and_the_json_has_stable_keys(
    trail_report: PortfolioReport,
) -> None:
    data = json.loads(trail_report.to_json())
    assert data["schema"] == SCHEMA
    assert list(data["summary"]) == list(SUMMARY_KEYS)
    assert list(data["sections"]) == list(SECTIONS)
    for key, (title, names) in SECTIONS.items():
        section = data["sections"][key]
        assert section["title"] == title
        for row in section["rows"]:
            assert list(row) == list(names)
    assert data["sections"]["sla_at_risk"]["rows"] == []
    assert "no SLA definitions" in data["sections"]["sla_at_risk"]["note"]
    assert "no policy" in data["sections"]["escalations_due"]["note"]


def test_target_dates_at_risk_are_open_items_overdue_or_likely_late(
    trail_report: PortfolioReport, trail_frame: tuple[EventFrame, TargetDates]
) -> None:
    table = trail_report["target_date_at_risk"]
    assert len(table) > 0
    frame, targets = trail_frame
    target = targets.aligned(frame.items)[0]
    forecast = forecast_completion(frame, now=NOW, targets=target, seed=0)
    now = trail_report.now
    states = {item: row["state"] for item, row in _current(frame).items()}
    expected = {
        item
        for item, t, p in zip(frame.items, target, forecast.miss_probability, strict=True)
        if states[item] in ("planned", "in_progress", "blocked")
        and t != NO_TARGET
        and (t < now or p >= 0.5)
    }
    assert set(table.column("item")) == expected
    for row in table.rows():
        target_ns = int(pendulum.parse(str(row["target_at"])).timestamp()) * 10**9
        assert row["status"] == ("overdue" if target_ns < now else "at_risk")
        if row["status"] == "at_risk":
            assert row["miss_probability"] >= 0.5
    assert table.column("target_at").tolist() == sorted(table.column("target_at").tolist())


def _current(frame: EventFrame) -> dict[object, dict[str, str]]:
    """Each item's state at NOW, from its rows one by one."""
    state_names = [state.value for state in STATES]
    current: dict[object, dict[str, str]] = {}
    now = to_epoch_ns(NOW)
    for item, time, state in zip(
        frame.items[frame.item].tolist(), frame.time.tolist(), frame.state.tolist(), strict=True
    ):
        if time <= now:
            current[item] = {"state": state_names[state]}
    return current


def test_queues_name_each_items_state_owner_and_reason_now(
    trail_report: PortfolioReport, trail_frame: tuple[EventFrame, TargetDates]
) -> None:
    frame, _ = trail_frame
    now = to_epoch_ns(NOW)
    owners = [owner.value for owner in OWNERS]
    current: dict[object, tuple[str, object, object]] = {}
    for item, time, state, owner, reason in zip(
        frame.items[frame.item].tolist(), frame.time.tolist(), frame.state.tolist(),
        frame.owner.tolist(), frame.reason.tolist(), strict=True,
    ):  # fmt: skip
        if time <= now:  # rows are in time order within an item: the last one is the state now
            current[item] = (
                STATES[state].value,
                owners[owner] if owner >= 0 else None,
                frame.taxonomy.codes[reason] if reason >= 0 else None,
            )
    oldest = list(trail_report["oldest_blocked"].rows())
    at_risk = list(trail_report["target_date_at_risk"].rows())
    sla = list(portfolio_report(frame, now=NOW, slas=[DEMO_SLA])["sla_at_risk"].rows())
    assert len(oldest) > 0
    assert len(at_risk) > 0
    assert len(sla) > 0
    for row in oldest:
        assert ("blocked", row["owner"], row["reason"]) == current[row["item"]]
    for row in at_risk:
        assert (row["state"], row["owner"], row["reason"]) == current[row["item"]]
    for row in sla:
        assert row["state"] == current[row["item"]][0]


def test_target_dates_read_the_last_target_of_each_milestone() -> None:
    log = InMemoryEventLog()
    for stream_id, events in synthetic_trail(synthetic_portfolio(orders=30, seed=5), seed=5):
        log.append(stream_id, events)
    targets = TargetDates.from_event_columns(log.read_columns())
    expected: dict[str, tuple[int, str]] = {}
    for record in log.read_all():
        target = getattr(record.event, "target_at", None)
        if isinstance(record.event, (MilestonePlanned, TargetDateChanged)):
            item = record.stream_id.split(":", 1)[1]
            if target is None:
                expected.pop(item, None)
            else:
                ns = int(target.timestamp()) * 10**9
                expected[item] = (ns, record.event_id)
    found = {
        item: (int(t), e)
        for item, t, e in zip(targets.items, targets.target, targets.evidence, strict=True)
    }
    assert found == expected


def test_text_html_and_pandas_show_every_section(trail_report: PortfolioReport) -> None:
    text = trail_report.to_text()
    page = trail_report.to_html()
    for title, _ in SECTIONS.values():
        assert title in text
        assert title in page
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "<html" not in trail_report._repr_html_()
    table = trail_report.to_pandas("cycle_time_by_step")
    assert list(table.columns) == list(SECTIONS["cycle_time_by_step"][1])
    assert table["items"].sum() == trail_report.summary["cycle_time_items"]
    oldest = trail_report.to_pandas("oldest_blocked")
    assert str(oldest["blocked_since"].dtype) == "datetime64[ns, UTC]"


def test_sections_given_by_the_host_are_checked_and_shown(trail_report: PortfolioReport) -> None:
    escalations = ReportTable.from_columns(
        "escalations_due",
        {
            "item": ["M-1"],
            "policy": ["blocked_on_provider_7d"],
            "action": ["raise"],
            "level": [1],
            "target": ["owner:provider"],
            "explanation": ["blocked on the provider for 9 days (limit 7)"],
            "evidence": ["e-1"],
        },
    )
    frame = trail_report.cycle_time.frame
    report = portfolio_report(frame, now=NOW, escalations_due=escalations)
    assert report.to_data()["sections"]["escalations_due"]["rows"][0]["policy"] == (  # type: ignore[index]
        "blocked_on_provider_7d"
    )
    with pytest.raises(ValidationError, match="sla_at_risk"):
        portfolio_report(frame, now=NOW, sla_at_risk=escalations)
    with pytest.raises(ValidationError, match="only the columns"):
        ReportTable.from_columns("escalations_due", {"item": [], "colour": []})
    with pytest.raises(ValidationError, match="oldest"):
        portfolio_report(frame, now=NOW, oldest=0)


def test_empty_sections_given_by_the_host_come_out_as_given(
    trail_frame: tuple[EventFrame, TargetDates],
) -> None:
    # An empty table is falsy; the host's empty section and its note still win over the built one.
    frame, targets = trail_frame
    sla = ReportTable.empty("sla_at_risk", note="clocks kept by the ticketing system")
    due = ReportTable.empty("escalations_due", note="escalations raised by the host")
    report = portfolio_report(frame, now=NOW, targets=targets, sla_at_risk=sla, escalations_due=due)
    assert report["sla_at_risk"] is sla
    assert report["escalations_due"] is due
    sections = report.to_data()["sections"]
    assert sections["sla_at_risk"]["note"] == "clocks kept by the ticketing system"  # type: ignore[index]
    assert sections["escalations_due"]["note"] == "escalations raised by the host"  # type: ignore[index]


def test_a_report_names_bad_sections_and_bad_summary_keys_each_under_its_own_path(
    trail_report: PortfolioReport,
) -> None:
    sections = dict(trail_report.sections)
    del sections["cumulative_flow"]
    summary = dict(trail_report.summary)
    del summary["items"]
    summary["colour"] = "blue"
    with pytest.raises(ValidationError) as only_summary:
        attrs.evolve(trail_report, summary=summary)
    assert [(e.path, e.value) for e in only_summary.value.errors] == [("summary", list(summary))]
    assert (
        only_summary.value.errors[0].expected == f"the summary keys {list(SUMMARY_KEYS)} in order"
    )
    with pytest.raises(ValidationError) as only_sections:
        attrs.evolve(trail_report, sections=sections)
    assert [(e.path, e.value) for e in only_sections.value.errors] == [("sections", list(sections))]
    assert only_sections.value.errors[0].expected == f"the sections {list(SECTIONS)} in order"
    with pytest.raises(ValidationError) as both:
        attrs.evolve(trail_report, sections=sections, summary=summary)
    assert both.value.errors == only_sections.value.errors + only_summary.value.errors


def test_missing_attributes_leave_sections_empty_with_a_reason() -> None:
    frame = EventFrame.from_columns(
        {"item": ["a", "a"], "time": [0, NS_PER_DAY], "state": ["in_progress", "done"]},
        item="item",
        time="time",
        state="state",
    )
    report = portfolio_report(frame)
    for key in ("blocked_by_region", "cycle_time_by_provider", "aging_by_step"):
        assert len(report[key]) == 0
        assert report[key].note is not None
    assert report["cycle_time_trend"].column("items").tolist() == [1]
    assert report.summary["cycle_time_p50_days"] == 1.0
    assert report.summary["cycle_time_p85_days"] == 1.0


def test_sla_at_risk_lists_open_clocks_past_a_stage_one_item_at_a_time(
    trail_report: PortfolioReport,
) -> None:
    frame = trail_report.cycle_time.frame
    report = portfolio_report(frame, now=NOW, slas=[DEMO_SLA])
    table = report["sla_at_risk"]
    assert len(table) > 0
    expected = {}
    for item in frame.items.tolist():  # the single-item path, item by item
        clock = sla_clock(DEMO_SLA, frame, item, now=NOW)
        if clock.started and not clock.stopped and clock.stage >= 0:
            expected[item] = (DEMO_SLA.stages[clock.stage].name, clock.breach_ns)
    found = {
        item: (status, int(due))
        for item, status, due in zip(
            table.column("item"), table.column("status"), table.column("due_at"), strict=True
        )
    }
    assert found == expected
    assert table.column("due_at").tolist() == sorted(table.column("due_at").tolist())
    assert all(evidence is not None for evidence in table.column("evidence"))
    with pytest.raises(ValidationError, match="not both"):
        portfolio_report(
            frame, now=NOW, slas=[DEMO_SLA], sla_at_risk=ReportTable.empty("sla_at_risk", note="x")
        )


def test_escalations_due_are_the_findings_to_raise_or_repeat_with_their_explanation(
    trail_frame: tuple[EventFrame, TargetDates],
) -> None:
    frame, targets = trail_frame
    report = portfolio_report(frame, now=NOW, targets=targets, policies=DEMO_POLICIES)
    table = report["escalations_due"]
    found = evaluate(DEMO_POLICIES, frame, now=NOW)
    due = [
        (policy, item, action, int(level), target)
        for policy, item, action, level, target in zip(
            found.policy, found.item, found.actions, found.level, found.target, strict=True
        )
        if action in ("raise", "repeat")
    ]
    assert due
    rows = list(
        zip(
            table.column("policy"),
            table.column("item"),
            table.column("action"),
            table.column("level").tolist(),
            table.column("target"),
            strict=True,
        )
    )
    assert rows == due
    for row in table.rows():
        owner = "provider" if row["policy"] == "provider_block" else "customer"
        assert row["explanation"].startswith(f"owner = {owner}; blocked_for P")
        assert row["evidence"]
        assert all(isinstance(e, str) for e in row["evidence"])
    with pytest.raises(ValidationError, match="not both"):
        portfolio_report(frame, now=NOW, policies=DEMO_POLICIES, escalations_due=table)


def test_blocked_by_reason_names_each_reason_and_its_default_owner(
    trail_report: PortfolioReport,
) -> None:
    table = trail_report["blocked_by_reason"]
    assert len(table) > 0
    for row in table.rows():
        reason = DEFAULT_TAXONOMY.require(str(row["reason"]))
        assert (row["label"], row["owner"]) == (reason.label, reason.owner.value)
