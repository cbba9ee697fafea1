"""The demo's event trail: a seeded synthetic portfolio recorded through the lifecycle into SQLite."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import pendulum

from servicedelivery.errors import SourceError
from servicedelivery.eventlog import SQLiteEventLog
from servicedelivery.policy import PolicySet
from servicedelivery.report._progress import SILENT, Progress
from servicedelivery.sla import SLA
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail

__all__ = ["DEMO_NOW", "DEMO_POLICIES", "DEMO_SLA", "DemoTrail", "build_demo_trail"]

DEMO_NOW = pendulum.datetime(2026, 1, 5, 9, tz="UTC")
"""The instant the demo portfolio is seen at (the synthetic data's own ``now``)."""

DEMO_SLA = SLA.from_data(
    {
        "name": "step_delivery",
        "description": "Each delivery step is done within 10 days of starting it; time blocked on "
        "the customer does not count.",
        "target": "10d",
        "start": {"state": ["in_progress", "blocked"]},
        "pause": {"state": "blocked", "owner": "customer"},
        "stop": {"state": "done"},
        "cancel": {"state": "cancelled"},
    }
)
"""The SLA the demo reports on: a step is done within 10 days, customer waits excluded."""

DEMO_POLICIES = PolicySet.from_data(
    {
        "policies": [
            {
                "name": "provider_block",
                "description": "Provider blocks that last: the account manager, then the director",
                "when": {
                    "all_of": [
                        {"field": "owner", "eq": "provider"},
                        {"measure": "blocked_for", "gt": "5d"},
                    ]
                },
                "action": "escalate",
                "levels": [
                    {"to": {"queue": "account_manager_{provider}"}},
                    {"to": {"queue": "director_{provider}"}, "after": "5d"},
                ],
                "playbook": "Call the provider's account manager with the order and the reason.",
            },
            {
                "name": "customer_wait",
                "description": "Work waiting on the customer for more than two weeks",
                "when": {
                    "all_of": [
                        {"field": "owner", "eq": "customer"},
                        {"measure": "blocked_for", "gt": "14d"},
                    ]
                },
                "action": "escalate",
                "levels": [{"to": {"queue": "customer_success_{region}"}}],
            },
        ]
    }
)
"""The policies the demo reports on: lasting provider blocks, long customer waits."""

_STREAMS_PER_TRANSACTION = 1_000  # one commit per thousand streams: progress shows, commits are few


@attrs.frozen
class DemoTrail:
    """What the demo recorded.

    Attributes:
        path: The SQLite file.
        streams: How many streams (sites, services, orders, milestones).
        events: How many events.
        now: The instant the portfolio is seen at.
    """

    path: Path
    streams: int
    events: int
    now: pendulum.DateTime


def build_demo_trail(
    path: str | os.PathLike[str],
    *,
    orders: int = 2000,
    seed: int = 7,
    progress: Progress = SILENT,
) -> DemoTrail:
    """Record a seeded synthetic portfolio's histories into a new SQLite event trail at ``path``.

    Every batch goes through :meth:`EventLog.append_many`, so the lifecycle checks every transition,
    a thousand streams per transaction. The file is written with ``synchronous="normal"``: demo
    data need not survive a power cut.

    Raises:
        SourceError: ``path`` exists and is not a file, or cannot be replaced.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        raise SourceError("exists and is not a file", source=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    with progress.task("building the synthetic portfolio", unit="orders") as task:
        portfolio = synthetic_portfolio(orders=orders, seed=seed, now=DEMO_NOW)
        task.update(orders)
    with progress.task("writing event histories", unit="milestones") as task:
        batches = synthetic_trail(portfolio, seed=seed, now=DEMO_NOW)
        task.update(len(portfolio.milestones))
    events = sum(len(batch) for _, batch in batches)
    log = SQLiteEventLog(target, synchronous="normal")
    try:
        with progress.task(f"recording into {target}", total=events, unit="events") as task:
            done = 0
            for start in range(0, len(batches), _STREAMS_PER_TRANSACTION):
                chunk = batches[start : start + _STREAMS_PER_TRANSACTION]
                log.append_many(chunk)
                done += sum(len(batch) for _, batch in chunk)
                task.update(done)
    finally:
        log.close()
    return DemoTrail(path=target, streams=len(batches), events=events, now=DEMO_NOW)
