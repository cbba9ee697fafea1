from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from servicedelivery._cli import main
from servicedelivery.report import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
BPIC_MAP = str(ROOT / "examples/status_maps/bpic2013_incidents.json")


@pytest.fixture(scope="module")
def demo_trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "trail.sqlite"
    assert main(["demo", "--orders", "60", "--seed", "3", "--trail", str(path)]) == 0
    return path


def test_demo_records_a_trail_and_reports_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trail.sqlite"
    assert main(["demo", "--orders", "60", "--seed", "3", "--trail", str(path)]) == 0
    first = capsys.readouterr()
    assert str(path) in first.err
    assert path.is_file()
    assert "Portfolio report: synthetic portfolio, 60 orders, seed 3" in first.out
    assert "Blocked now, by owner" in first.out
    assert "Cycle time by provider" in first.out
    # The same seed gives the same report; the trail is rebuilt, not appended to.
    assert main(["demo", "--orders", "60", "--seed", "3", "--trail", str(path)]) == 0
    assert capsys.readouterr().out == first.out


def test_report_on_the_demo_trail_in_every_format(
    demo_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(demo_trail), "--format", "json", "--now", "2026-01-05T09:00Z"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == SCHEMA
    assert data["summary"]["items"] == 60 * 7
    assert data["sections"]["target_date_at_risk"]["note"] is None
    page = tmp_path / "report.html"
    assert main(["report", str(demo_trail), "--format", "html", "--output", str(page)]) == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(demo_trail), "--rows", "2"]) == 0
    assert "... " in capsys.readouterr().out


def test_check_passes_on_a_trail_and_lists_violations_in_a_file(
    demo_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(demo_trail)]) == 0
    assert "no lifecycle violations" in capsys.readouterr().out
    events = tmp_path / "events.csv"
    events.write_text(
        "item,time,trigger\n"
        "a,2024-01-01T09:00:00Z,start\n"
        "a,2024-01-02T09:00:00Z,complete\n"
        "b,2024-01-01T09:00:00Z,complete\n"
        "b,2024-01-03T09:00:00Z,reopen\n",
        encoding="utf-8",
    )
    assert main(["check", str(events), "--trigger", "trigger"]) == 1
    out = capsys.readouterr().out
    assert "2 violations" in out
    assert "row 2, item 'b'" in out  # rows count from 0, the first row of data
    assert "row 3, item 'b'" in out


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("servicedelivery: error: ")
    return lines[0]


def test_bad_input_ends_with_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert "not a text file of events" in _error(capsys, "report", str(picture))
    notes = tmp_path / "notes.csv"
    notes.write_text("shopping,list\nmilk,eggs\n", encoding="utf-8")
    line = _error(capsys, "report", str(notes))
    assert "not an event log" in line
    assert "'shopping'" in line
    assert "no such file" in _error(capsys, "report", str(tmp_path / "nowhere.csv"))
    assert "no such file" in _error(capsys, "check", str(tmp_path / "nowhere.csv"))
    # Every status the map does not cover is named.
    partial = tmp_path / "partial.json"
    partial.write_text(
        json.dumps(
            {"columns": ["concept:name"], "rules": [{"match": "Queued", "state": "planned"}]}
        ),
        encoding="utf-8",
    )
    line = _error(
        capsys, "report", str(ROOT / "data/bpic2013_incidents.csv.gz"), "--status-map", str(partial)
    )
    assert "3 status value(s) not covered" in line
    for status in ("'Accepted'", "'Completed'", "'Unmatched'"):
        assert status in line
    line = _error(capsys, "report", str(notes), "--timezone", "Mars/Olympus_Mons")
    assert "--timezone" in line
    assert "Mars/Olympus_Mons" in line
    broken = tmp_path / "broken.json"
    broken.write_text('{"columns": ["status"], "rules": [', encoding="utf-8")
    assert "not JSON" in _error(capsys, "report", str(notes), "--status-map", str(broken))
    calendar = tmp_path / "calendar.json"
    calendar.write_text('{"name": "x", "timezone": "Nowhere/City", "hours": {}}', encoding="utf-8")
    line = _error(capsys, "report", str(notes), "--calendar", str(calendar))
    assert "timezone" in line
    line = _error(capsys, "report", str(notes), "--now", "2024-01-01 09:00")
    assert "--now" in line


def test_times_without_an_offset_need_a_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.csv.gz"
    with gzip.open(events, "wt", encoding="utf-8") as handle:
        handle.write("number,state,updated\nINC1,in_progress,29-03-2024 09:00\n")
        handle.write("INC1,done,31-03-2024 09:00\n")
    options = ["--item", "number", "--state", "state", "--time", "updated"]
    options += ["--time-format", "%d-%m-%Y %H:%M"]
    line = _error(capsys, "report", str(events), *options)
    assert "--timezone" in line
    assert (
        main(["report", str(events), *options, "--timezone", "Europe/Paris", "--format", "json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    # Two days across the change to summer time in Paris: 47 hours.
    assert data["summary"]["cycle_time_p50_days"] == round(47 / 24, 4)


def test_usage_errors_exit_with_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--orders", "0"])
    assert info.value.code == 2
    assert "--orders: expected a positive number, got 0" in capsys.readouterr().err


def test_python_dash_m_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "servicedelivery", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("servicedelivery ")


def test_json_output_is_not_garbled_by_progress(demo_trail: Path) -> None:
    command = [sys.executable, "-m", "servicedelivery", "report", str(demo_trail)]
    result = subprocess.run(
        [*command, "--format", "json", "--progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["schema"] == SCHEMA
    assert "reading the trail" in result.stderr
    assert "\r" not in result.stderr  # not a terminal: final lines only


def test_report_with_an_sla_file_fills_the_sla_queue(
    demo_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sla = tmp_path / "sla.json"
    sla.write_text(
        json.dumps(
            {
                "name": "step_in_5d",
                "target": "5d",
                "start": {"state": ["in_progress", "blocked"]},
                "stop": {"state": "done"},
                "cancel": {"state": "cancelled"},
            }
        ),
        encoding="utf-8",
    )
    assert main(["report", str(demo_trail), "--sla", str(sla), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["sections"]["sla_at_risk"]["rows"]
    assert rows
    assert {row["sla"] for row in rows} == {"step_in_5d"}
    sla.write_text('{"name": "x", "target": "soon", "start": {"state": "in_progress"}}')
    line = _error(capsys, "report", str(demo_trail), "--sla", str(sla))
    assert "target" in line
    assert "'soon'" in line


def test_report_with_a_policy_file_lists_escalations_due(
    demo_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "name": "any_block",
                "when": {"measure": "blocked_for", "gt": "1h"},
                "action": "escalate",
                "levels": [{"to": {"queue": "desk"}}],
            }
        ),
        encoding="utf-8",
    )
    assert main(["report", str(demo_trail), "--policy", str(policy), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["sections"]["escalations_due"]["rows"]
    assert rows
    assert {(row["policy"], row["target"]) for row in rows} == {("any_block", "queue:desk")}
    policy.write_text('{"policies": [{"name": "x", "when": {"measure": "blocked_for"', "utf-8")
    assert "not JSON" in _error(capsys, "report", str(demo_trail), "--policy", str(policy))
    policy.write_text('{"name": "x", "when": {"measure": "blocked_forever", "gt": "1h"}}', "utf-8")
    line = _error(capsys, "report", str(demo_trail), "--policy", str(policy))
    assert "blocked_forever" in line


def test_json_lines_sources_with_attributes_and_missing_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    lines = [
        {"ticket": "T1", "at": "2024-05-01T09:00:00+02:00", "status": "in_progress", "team": "net"},
        {"ticket": "T1", "at": "2024-05-02T09:00:00+02:00", "status": "blocked",
         "why": "awaiting_provider", "team": "?"},
        {"ticket": "T2", "at": "2024-05-01T10:00:00Z", "status": "in_progress", "team": "desk"},
        {"ticket": "T2", "at": "2024-05-03T10:00:00Z", "status": "done", "team": "desk"},
    ]  # fmt: skip
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    options = ["--item", "ticket", "--time", "at", "--state", "status", "--reason", "why"]
    options += ["--missing", "?"]
    options += ["--attribute", "provider=team", "--now", "2024-05-04T09:00:00+02:00"]
    assert main(["report", str(events), *options, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    blocked = data["sections"]["blocked_by_provider"]["rows"]
    # T1's team is the last one recorded: "?" means none, so it stays "net".
    assert blocked == [
        {"provider": "net", "items": 1, "share": 1.0, "median_blocked_days": 2.0,
         "max_blocked_days": 2.0}
    ]  # fmt: skip
    assert data["summary"]["cycle_time_p50_days"] == 2.0
    events.write_text('{"ticket": "T1"}\nnot json\n', encoding="utf-8")
    assert "line 2 is not JSON" in _error(capsys, "report", str(events), *options)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("item,time,state\na,2024-01-01T00:00Z,done\nb,2024-01-01T00:00Z\n", "utf-8")
    assert "1 row(s) do not have 3 fields" in _error(capsys, "report", str(ragged))


def test_check_reads_state_histories_through_a_status_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "tickets.csv"
    events.write_text(
        "ticket,when,incident_state\n"
        "a,2024-01-01T09:00:00Z,Active\n"
        "a,2024-01-02T09:00:00Z,Resolved\n"
        "a,2024-01-03T09:00:00Z,Awaiting Vendor\n"
        "b,2024-01-01T09:00:00Z,New\n"
        "b,2024-01-02T09:00:00Z,Resolved\n",
        encoding="utf-8",
    )
    status_map = str(ROOT / "examples/status_maps/servicenow_incidents.json")
    options = ["--item", "ticket", "--time", "when", "--status-map", status_map]
    assert main(["check", str(events), *options]) == 1
    out = capsys.readouterr().out
    assert "(by state)" in out
    assert "2 violations: illegal_target 2" in out
    assert "row 2, item 'a': illegal_target ('blocked' from 'done')" in out
    assert "row 4, item 'b': illegal_target ('done' from 'planned')" in out
