"""Reading the event trail, broken down: instants, payloads, and verify's checks of payloads.

``bench_eventlog`` times the whole reads and ``verify``; this times their parts: the instants, and
the distinct payloads parsed and built (checked, as ``verify`` builds them, or not, as reads do),
one by one and in bulk as reads do; and ``decode_records`` against the record-by-record loop.
CPU time (``process_time``), best of several: the machine may be shared.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from benchmarks._harness import Result
from benchmarks.bench_eventlog import cpu_best_of
from servicedelivery.eventlog import DEFAULT_REGISTRY, InMemoryEventLog
from servicedelivery.eventlog._decode import decode_each, decode_records
from servicedelivery.eventlog._fast import fast_builder, fast_columns, parse_payload, parse_payloads
from servicedelivery.eventlog._instants import parse_instant, parse_instants
from servicedelivery.eventlog._records import StoredRecord, envelope_row
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail


def run(*, quick: bool) -> list[Result]:
    orders = 300 if quick else 3_000
    repeat = 1 if quick else 5

    def best_of(function: Callable[[], object], *, repeat: int = repeat) -> float:
        return cpu_best_of(function, repeat=repeat)

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
            best_of(lambda: [parse_instant(text) for text in texts]),
            items=len(texts),
            unit="instants",
            reference="datetime.fromisoformat alone",
            reference_seconds=best_of(lambda: [dt.datetime.fromisoformat(text) for text in texts]),
            extra={"per event": f"{len(texts) / count:.2f}"},
        )
    )
    distinct = list(dict.fromkeys((r.type, r.payload) for r in records))
    data = [(DEFAULT_REGISTRY.get(name), json.loads(payload)) for name, payload in distinct]

    def checked_path() -> None:
        for event_type, item in data:
            DEFAULT_REGISTRY.decode(event_type.name, item)

    checked_seconds = best_of(checked_path)
    for checked in (False, True):

        def fast(checked: bool = checked) -> None:
            for event_type, item in data:
                fast_builder(event_type.cls, checked=checked)(item)  # type: ignore[misc]

        results.append(
            Result(
                f"fast builders{', checked' if checked else ''}, distinct payloads ({len(data):,})",
                best_of(fast),
                items=len(data),
                unit="payloads",
                reference="EventRegistry.decode (fully checked)",
                reference_seconds=checked_seconds,
                extra={"per event": f"{len(data) / count:.2f}"},
            )
        )
    rows = list(map(envelope_row, records))
    results.append(
        Result(
            f"decode_records ({count:,} records)",
            best_of(lambda: decode_records(DEFAULT_REGISTRY, rows)),
            items=count,
            unit="records",
            reference="decode_each (record by record)",
            reference_seconds=best_of(lambda: decode_each(DEFAULT_REGISTRY, rows)),
        )
    )
    results.append(
        Result(
            f"parse_instants, distinct texts ({len(texts):,})",
            best_of(lambda: parse_instants(texts)),
            items=len(texts),
            unit="instants",
            reference="parse_instant of each",
            reference_seconds=best_of(lambda: [parse_instant(text) for text in texts]),
        )
    )
    by_type: dict[str, list[object]] = {}
    for event_type, item in data:
        by_type.setdefault(event_type.name, []).append(item)

    def one_by_one() -> None:
        for name, items in by_type.items():
            build = fast_builder(DEFAULT_REGISTRY.get(name).cls)
            assert build is not None
            [build(item) for item in items]

    def column_wise() -> None:
        for name, items in by_type.items():
            build = fast_columns(DEFAULT_REGISTRY.get(name).cls)
            assert build is not None
            for start in range(0, len(items), 128):  # in chunks, as reads build them
                build(items[start : start + 128])

    results.append(
        Result(
            f"fast_columns, distinct payloads ({len(data):,})",
            best_of(column_wise),
            items=len(data),
            unit="payloads",
            reference="fast_builder of each",
            reference_seconds=best_of(one_by_one),
        )
    )
    payload_texts = [p for _, p in distinct]
    results.append(
        Result(
            "parse_payloads of the distinct payloads, in chunks of 128",
            best_of(
                lambda: [
                    parse_payloads(payload_texts[i : i + 128])
                    for i in range(0, len(payload_texts), 128)
                ]
            ),
            items=len(distinct),
            unit="payloads",
            reference="parse_payload of each",
            reference_seconds=best_of(lambda: [parse_payload(p) for p in payload_texts]),
        )
    )
    results.append(
        Result(
            "json parse of the distinct payloads",
            best_of(lambda: [parse_payload(p) for _, p in distinct]),
            items=len(distinct),
            unit="payloads",
            reference="json.loads",
            reference_seconds=best_of(lambda: [json.loads(p) for _, p in distinct]),
        )
    )
    return results
