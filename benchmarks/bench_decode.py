"""Reading the event trail, broken down: instants, payloads, and verify's checks of payloads.

``bench_eventlog`` times the whole reads and ``verify``; this times their parts: the instants, and
the distinct payloads parsed and built (checked, as ``verify`` builds them, or not, as reads do).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from benchmarks._harness import Result, best_of
from servicedelivery.eventlog import DEFAULT_REGISTRY, InMemoryEventLog
from servicedelivery.eventlog._decode import collector_paused
from servicedelivery.eventlog._fast import fast_builder, parse_payload
from servicedelivery.eventlog._instants import parse_instant
from servicedelivery.eventlog._records import StoredRecord
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail


def paused(function: Callable[[], object]) -> Callable[[], None]:
    """``function`` with the collector paused, as reads run."""

    def run() -> None:
        with collector_paused():
            function()

    return run


def run(*, quick: bool) -> list[Result]:
    orders = 300 if quick else 3_000
    repeat = 1 if quick else 3
    log = InMemoryEventLog()
    for stream_id, new_events in synthetic_trail(
        synthetic_portfolio(orders=orders, seed=11), seed=11
    ):
        log.append(stream_id, new_events)
    records: list[StoredRecord] = log._select_all(1, None)
    count = len(records)
    results: list[Result] = []
    texts = list(dict.fromkeys([r.occurred_at for r in records] + [r.recorded_at for r in records]))
    results.append(
        Result(
            f"parse_instant, distinct texts ({len(texts):,})",
            best_of(paused(lambda: [parse_instant(text) for text in texts]), repeat=repeat),
            items=len(texts),
            unit="instants",
            reference="datetime.fromisoformat alone",
            reference_seconds=best_of(
                paused(lambda: [dt.datetime.fromisoformat(text) for text in texts]), repeat=repeat
            ),
            extra={"per event": f"{len(texts) / count:.2f}"},
        )
    )
    distinct = list(dict.fromkeys((r.type, r.payload) for r in records))
    data = [(DEFAULT_REGISTRY.get(name), json.loads(payload)) for name, payload in distinct]

    def checked_path() -> None:
        for event_type, item in data:
            DEFAULT_REGISTRY.decode(event_type.name, item)

    checked_seconds = best_of(paused(checked_path), repeat=repeat)
    for checked in (False, True):

        def fast(checked: bool = checked) -> None:
            for event_type, item in data:
                fast_builder(event_type.cls, checked=checked)(item)  # type: ignore[misc]

        results.append(
            Result(
                f"fast builders{', checked' if checked else ''}, distinct payloads ({len(data):,})",
                best_of(paused(fast), repeat=repeat),
                items=len(data),
                unit="payloads",
                reference="EventRegistry.decode (fully checked)",
                reference_seconds=checked_seconds,
                extra={"per event": f"{len(data) / count:.2f}"},
            )
        )
    results.append(
        Result(
            "json parse of the distinct payloads",
            best_of(paused(lambda: [parse_payload(p) for _, p in distinct]), repeat=repeat),
            items=len(distinct),
            unit="payloads",
            reference="json.loads",
            reference_seconds=best_of(
                paused(lambda: [json.loads(p) for _, p in distinct]), repeat=repeat
            ),
        )
    )
    return results
