"""Timing and memory helpers shared by the benchmarks.

Figures are reported as ratios against a reference measured in the same run on the same machine, so
they mean the same on a laptop and on a CI runner.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """One measured figure."""

    name: str
    seconds: float
    items: int = 0
    unit: str = "items"
    reference: str | None = None
    reference_seconds: float | None = None
    aim: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")

    @property
    def ratio(self) -> float | None:
        if self.reference_seconds is None:
            return None
        return self.reference_seconds / self.seconds if self.seconds else float("inf")

    def line(self) -> str:
        text = f"{self.name:<58} {self.seconds * 1e3:10.2f} ms"
        if self.items:
            text += f"  {self.rate:>14,.0f} {self.unit}/s"
        if self.ratio is not None:
            text += f"  {self.ratio:7.1f}x vs {self.reference}"
        for key, value in self.extra.items():
            text += f"  {key}={value}"
        if self.aim:
            text += f"  (aim: {self.aim})"
        return text


def best_of(function: Callable[[], object], *, repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs, in seconds: the least disturbed by the rest of the machine."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def peak_bytes(function: Callable[[], object]) -> int:
    """Peak bytes allocated while ``function`` runs (numpy reports its buffers to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak
