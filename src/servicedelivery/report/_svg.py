"""Plots as inline SVG, drawn with numpy and text alone (no plotting library, no scripts).

Marks are written for whole arrays at once: the coordinates of every point are formatted by numpy
and joined into one path, so a plot of thousands of items costs no Python loop per item.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.model import NS_PER_DAY

__all__ = ["PALETTE", "Axes", "bars", "days", "month_ticks", "nice_ticks"]

PALETTE = {
    "planned": "#c9d6e3",
    "in_progress": "#4e79a7",
    "blocked": "#e15759",
    "done": "#59a14f",
    "cancelled": "#9c9c9c",
    "p50": "#59a14f",
    "p85": "#f28e2b",
    "p95": "#e15759",
    "point": "#4e79a7",
}

_WIDTH, _HEIGHT = 760, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 120, 16, 40


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low`` to ``high``: steps of 1, 2 or 5 times a power of ten."""
    if not high > low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    return [first + k * step for k in range(math.ceil((high - first) / step) + 1)]


def _numbers(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.char.mod("%.1f", np.asarray(values, dtype=np.float64))


class Axes:
    """A plot area mapping data to pixels, collecting SVG elements."""

    def __init__(
        self,
        *,
        x: tuple[float, float],
        y: tuple[float, float],
        label: str,
        width: int = _WIDTH,
        height: int = _HEIGHT,
    ) -> None:
        self.width, self.height = width, height
        self.x0, self.x1 = x
        self.y0, self.y1 = y
        if not self.x1 > self.x0:
            self.x1 = self.x0 + 1
        if not self.y1 > self.y0:
            self.y1 = self.y0 + 1
        self.label = label
        self.parts: list[str] = []

    def px(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        span = self.width - _LEFT - _RIGHT
        result: npt.NDArray[np.float64] = (
            _LEFT + (np.asarray(x, np.float64) - self.x0) / (self.x1 - self.x0) * span
        )
        return result

    def py(self, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
        span = self.height - _TOP - _BOTTOM
        result: npt.NDArray[np.float64] = (
            self.height
            - _BOTTOM
            - (np.asarray(y, np.float64) - self.y0) / (self.y1 - self.y0) * span
        )
        return result

    def y_axis(self, title: str) -> None:
        for tick in nice_ticks(self.y0, self.y1):
            if not self.y0 <= tick <= self.y1:
                continue
            y = float(self.py(tick))
            self.parts.append(
                f'<line x1="{_LEFT}" x2="{self.width - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                f'class="grid"/><text x="{_LEFT - 6}" y="{y + 4:.1f}" class="tick" '
                f'text-anchor="end">{tick:g}</text>'
            )
        middle = (_TOP + self.height - _BOTTOM) / 2
        self.parts.append(
            f'<text transform="translate(14 {middle:.0f}) rotate(-90)" class="axis" '
            f'text-anchor="middle">{html.escape(title)}</text>'
        )

    def x_dates(self, ticks_ns: npt.NDArray[np.int64]) -> None:
        """Month ticks on a time axis (``x`` in ns since the epoch)."""
        labels = np.datetime_as_string(ticks_ns.view("M8[ns]"), unit="M")
        for tick, text in zip(ticks_ns.tolist(), labels.tolist(), strict=True):
            x = float(self.px(tick))
            self.parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.height - _BOTTOM}" '
                f'y2="{self.height - _BOTTOM + 4}" class="axisline"/>'
                f'<text x="{x:.1f}" y="{self.height - _BOTTOM + 18}" class="tick" '
                f'text-anchor="middle">{text}</text>'
            )

    def x_categories(self, names: Sequence[str]) -> None:
        for index, name in enumerate(names):
            x = float(self.px(index))
            self.parts.append(
                f'<text x="{x:.1f}" y="{self.height - _BOTTOM + 18}" class="tick" '
                f'text-anchor="middle">{html.escape(name)}</text>'
            )

    def dots(self, x: npt.ArrayLike, y: npt.ArrayLike, *, color: str, name: str) -> None:
        """One path of round dots (a zero-length segment per point, drawn with round caps)."""
        xs, ys = _numbers(self.px(x)), _numbers(self.py(y))
        if not len(xs):
            return
        moves = np.char.add(np.char.add(np.char.add("M", xs), " "), np.char.add(ys, "h0"))
        self.parts.append(
            f'<path class="dots" data-series="{html.escape(name)}" stroke="{color}" '
            f'd="{"".join(moves.tolist())}"/>'
        )

    def hline(self, y: float, *, color: str, label: str) -> None:
        py = float(self.py(y))
        self.parts.append(
            f'<line x1="{_LEFT}" x2="{self.width - _RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
            f'stroke="{color}" class="pline"/>'
            f'<text x="{self.width - _RIGHT + 6}" y="{py + 4:.1f}" fill="{color}" '
            f'class="plabel">{html.escape(label)}</text>'
        )

    def segment(self, x0: float, x1: float, y: float, *, color: str) -> None:
        py = float(self.py(y))
        self.parts.append(
            f'<line x1="{float(self.px(x0)):.1f}" x2="{float(self.px(x1)):.1f}" y1="{py:.1f}" '
            f'y2="{py:.1f}" stroke="{color}" class="pline"/>'
        )

    def band(
        self, x: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike, *, color: str, name: str
    ) -> None:
        """A filled band between two lines over the same x values."""
        xs = _numbers(self.px(x))
        upper = np.char.add(np.char.add(xs, ","), _numbers(self.py(high)))
        lower = np.char.add(np.char.add(xs, ","), _numbers(self.py(low)))[::-1]
        points = " ".join([*upper.tolist(), *lower.tolist()])
        self.parts.append(
            f'<polygon data-series="{html.escape(name)}" fill="{color}" points="{points}"/>'
        )

    def legend(self, entries: Sequence[tuple[str, str]]) -> None:
        for index, (name, color) in enumerate(entries):
            y = _TOP + 8 + 18 * index
            x = self.width - _RIGHT + 10
            self.parts.append(
                f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
                f'<text x="{x + 15}" y="{y}" class="tick">{html.escape(name)}</text>'
            )

    def svg(self, title: str) -> str:
        frame = (
            f'<line x1="{_LEFT}" x2="{self.width - _RIGHT}" y1="{self.height - _BOTTOM}" '
            f'y2="{self.height - _BOTTOM}" class="axisline"/>'
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-label="{html.escape(self.label)}" class="plot">'
            f"<title>{html.escape(title)}</title>{''.join(self.parts)}{frame}</svg>"
        )


def month_ticks(first_ns: int, last_ns: int, most: int = 8) -> npt.NDArray[np.int64]:
    """Starts of months (UTC) between two instants, thinned to at most ``most``."""
    months = np.arange(
        np.datetime64(first_ns, "ns").astype("M8[M]") + 1,
        np.datetime64(last_ns, "ns").astype("M8[M]") + 1,
    )
    step = max(1, math.ceil(len(months) / most))
    ticks: npt.NDArray[np.int64] = months[::step].astype("M8[ns]").astype(np.int64)
    return ticks


def bars(
    names: Sequence[str], values: npt.NDArray[np.float64], *, title: str, unit: str, color: str
) -> str:
    """A horizontal bar chart, one bar per name, largest first as given."""
    height = 40 + 30 * max(len(names), 1)
    top = float(values.max()) if len(values) else 1.0
    span = _WIDTH - 200 - 90
    parts = []
    for index, (name, value) in enumerate(zip(names, values.tolist(), strict=True)):
        y = 20 + 30 * index
        width = span * value / top if top else 0
        parts.append(
            f'<text x="190" y="{y + 15}" class="tick" text-anchor="end">{html.escape(name)}</text>'
            f'<rect data-series="{html.escape(name)}" x="200" y="{y}" width="{width:.1f}" '
            f'height="22" fill="{color}" rx="2"/>'
            f'<text x="{200 + width + 6:.1f}" y="{y + 15}" class="tick">{value:,.0f} {unit}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="{html.escape(title)}" class="plot"><title>{html.escape(title)}</title>'
        f"{''.join(parts)}</svg>"
    )


def days(ns: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Durations in days, as floats for plotting."""
    result: npt.NDArray[np.float64] = ns / NS_PER_DAY
    return result
