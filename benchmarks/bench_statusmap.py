"""Status maps: whole columns at once, against resolving row by row in Python."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

from benchmarks._harness import Result, best_of
from servicedelivery.model import StatusMap

DATA = Path(__file__).resolve().parents[1] / "data" / "bpic2013_incidents.csv.gz"

BPIC_2013 = {
    "columns": ["concept:name", "lifecycle:transition"],
    "rules": [
        {"match": {"concept:name": "Queued"}, "state": "planned"},
        {"match": {"concept:name": "Accepted", "lifecycle:transition": "Wait - User"},
         "state": "blocked", "reason": "awaiting_customer_information"},
        {"match": {"concept:name": "Accepted", "lifecycle:transition": "Wait - Customer"},
         "state": "blocked", "reason": "customer_readiness"},
        {"match": {"concept:name": "Accepted", "lifecycle:transition": "Wait - Vendor"},
         "state": "blocked", "reason": "awaiting_provider"},
        {"match": {"concept:name": "Accepted", "lifecycle:transition": "Wait - Implementation"},
         "state": "blocked", "reason": "change_window"},
        {"match": {"concept:name": "Accepted", "lifecycle:transition": "Wait"},
         "state": "blocked", "reason": "awaiting_service_desk"},
        {"match": {"concept:name": "Accepted"}, "state": "in_progress"},
        {"match": {"concept:name": "Completed"}, "state": "done"},
        {"match": {"concept:name": "Unmatched"}, "state": "in_progress"},
    ],
}  # fmt: skip


def run(*, quick: bool) -> list[Result]:
    with gzip.open(DATA, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    repeat = 2 if quick else 20
    names = np.tile(np.array([r["concept:name"] for r in rows]), repeat)
    transitions = np.tile(np.array([r["lifecycle:transition"] for r in rows]), repeat)
    status_map = StatusMap.from_data(BPIC_2013)
    columns = {"concept:name": names, "lifecycle:transition": transitions}

    def vectorized() -> None:
        status_map.apply(columns)

    def row_by_row() -> None:
        for a, b in zip(names.tolist(), transitions.tolist(), strict=True):
            status_map.resolve(a, b)

    fast = best_of(vectorized)
    slow = best_of(row_by_row, repeat=1)
    return [
        Result(
            f"apply to BPIC 2013 x{repeat} ({len(names):,} rows)",
            fast,
            items=len(names),
            unit="rows",
            reference="resolve() per row",
            reference_seconds=slow,
        )
    ]
