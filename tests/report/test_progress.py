from __future__ import annotations

import io

from servicedelivery.report import SILENT, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_live_progress_redraws_in_place_at_most_every_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, interval=1.0, clock=clock, live=True)
    with progress.task("loading", total=1_000, unit="rows") as task:
        task.update(10)  # within the interval of the first draw: not shown
        clock.now = 1.5
        task.update(500)
        clock.now = 2.0
        task.advance(100)  # 0.5 s after the last draw: not shown
        clock.now = 3.0
    lines = stream.getvalue().split("\r")[1:]
    assert [line.rstrip() for line in lines] == [
        "loading: 0 of 1,000 rows (0%)",
        "loading: 500 of 1,000 rows (50%)",
        "loading: 600 rows in 3.0 s",
    ]
    assert stream.getvalue().endswith("\n")
    assert all(len(line.rstrip("\n")) == 79 for line in lines)


def test_progress_off_a_terminal_writes_final_lines_only() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock=clock)
    assert not progress.live  # a StringIO is not a terminal
    with progress.task("recording", total=3, unit="events") as task:
        clock.now = 5.0
        task.update(3)
    with progress.task("reading", unit="events") as task:
        task.update(7)
    assert stream.getvalue() == "recording: 3 events in 5.0 s\nreading: 7 events in 0.0 s\n"


def test_silent_progress_shows_nothing() -> None:
    assert not SILENT.enabled
    with SILENT.task("anything", total=10) as task:
        task.update(10)
    assert Progress(io.StringIO()).enabled
