"""Spike policies: control limits on daily counts per group, such as blocks per provider per day.

A spike policy counts something every day for each value of an attribute (each provider, each
region), and raises a finding for a group whose count on the day just ended lies above the control
limit computed from the days before it (its baseline): a c-chart (mean + sigma x sqrt(mean)) or an
EWMA chart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from enum import StrEnum, unique
from typing import Any

import attrs

from servicedelivery.errors import MISSING, FieldError, join_path
from servicedelivery.model._validation import (
    checked,
    iana_timezone,
    instance_of,
    member_of,
    optional,
    slug,
    text,
)
from servicedelivery.policy._targets import (
    NOT_ATTRIBUTES,
    Definition,
    Scope,
    Target,
    build,
    read_scope,
    read_target,
    to_enum,
    unknown,
)

__all__ = ["Chart", "SpikeCount", "SpikePolicy", "spike_policy_from_data"]

_KEYS = (
    "name",
    "kind",
    "description",
    "scope",
    "count",
    "by",
    "chart",
    "baseline_days",
    "sigma",
    "weight",
    "timezone",
    "to",
    "playbook",
)


@unique
class SpikeCount(StrEnum):
    """What a spike policy counts per group and day."""

    BLOCKS = "blocks"
    """Items that became blocked during the day (entering blocked from another state)."""
    BLOCKED = "blocked"
    """Items blocked at the end of the day."""
    ESCALATIONS = "escalations"
    """Escalations raised during the day (first raises and higher levels, not repeats)."""


@unique
class Chart(StrEnum):
    """The control chart that sets the limit."""

    C = "c"
    """c-chart: the limit is ``mean + sigma * sqrt(mean)`` of the baseline days' counts."""
    EWMA = "ewma"
    """EWMA chart over the baseline and the day, with Poisson variance (see the docs)."""


def _number(low: float, high: float | None = None, *, low_open: bool = False) -> Any:
    bounds = f"{'>' if low_open else '>='} {low}" + ("" if high is None else f" and <= {high}")

    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"a number {bounds}"
        if not math.isfinite(value) or value < low or (low_open and value == low):
            return f"a number {bounds}"
        if high is not None and value > high:
            return f"a number {bounds}"
        return None

    return check


def _baseline_days(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= 3660:
        return None
    return "a whole number of days from 2 to 3660"


def _attribute(value: object) -> str | None:
    if isinstance(value, str) and value.strip() == value and value and value not in NOT_ATTRIBUTES:
        return None
    return "the name of an attribute of the frame, such as 'provider' or 'region'"


@attrs.frozen
class SpikePolicy(Definition):
    """Raise a finding when a group's daily count rises above its control limit.

    Attributes:
        name: Its code.
        count: What is counted each day.
        by: The attribute whose values are the groups (``"provider"``).
        to: Who a spike goes to; the queue name may hold ``{<by>}``, such as
            ``"vendor_manager_{provider}"``.
        chart: c-chart or EWMA (default: c-chart).
        baseline_days: How many days before the day checked make its baseline (default 28).
        sigma: How many standard deviations above the mean the limit lies (default 3).
        weight: The EWMA weight of each new day (lambda), for EWMA charts (default 0.2).
        timezone: The IANA zone whose local days are counted (default UTC).

    Parts left out (``None``) take their defaults, and stay left out in :meth:`to_data`.
        scope: The items counted (all when ``None``).
        playbook: What to do, for people.
        description: What it is for.
    """

    name: str = checked(slug)
    count: SpikeCount = checked(member_of(SpikeCount), converter=to_enum(SpikeCount))
    by: str = checked(_attribute)
    to: Target = checked(instance_of(Target))
    chart: Chart | None = checked(
        optional(member_of(Chart)), default=None, converter=to_enum(Chart)
    )
    baseline_days: int | None = checked(optional(_baseline_days), default=None)
    sigma: float | None = checked(optional(_number(0, low_open=True)), default=None)
    weight: float | None = checked(optional(_number(0, 1, low_open=True)), default=None)
    timezone: str | None = checked(optional(iana_timezone), default=None)
    scope: Scope | None = checked(optional(instance_of(Scope)), default=None)
    playbook: str | None = checked(optional(text), default=None)
    description: str | None = checked(optional(text), default=None)

    @property
    def effective_chart(self) -> Chart:
        """The chart, with its default."""
        return self.chart or Chart.C

    @property
    def effective_baseline_days(self) -> int:
        """The baseline's length in days, with its default."""
        return 28 if self.baseline_days is None else self.baseline_days

    @property
    def effective_sigma(self) -> float:
        """The limit's distance from the mean in standard deviations, with its default."""
        return 3.0 if self.sigma is None else float(self.sigma)

    @property
    def effective_weight(self) -> float:
        """The EWMA weight, with its default."""
        return 0.2 if self.weight is None else float(self.weight)

    @property
    def effective_timezone(self) -> str:
        """The zone of the days counted, with its default."""
        return self.timezone or "UTC"

    def _check_together(self) -> Iterator[FieldError]:
        if self.weight is not None and self.chart is not Chart.EWMA:
            yield FieldError("weight", self.weight, "no weight (it is the EWMA chart's)")
        extra = [name for name in self.to.fields if name != self.by]
        if extra:
            yield FieldError(
                "to", self.to.to_data(), f"a target whose placeholders name only {{{self.by}}}"
            )

    def to_data(self) -> dict[str, Any]:
        """The policy as plain data that :func:`spike_policy_from_data` reads back unchanged."""
        data: dict[str, Any] = {"name": self.name, "kind": "spike"}
        if self.description is not None:
            data["description"] = self.description
        if self.scope is not None:
            data["scope"] = self.scope.to_data()
        data.update(count=self.count.value, by=self.by)
        if self.chart is not None:
            data["chart"] = self.chart.value
        for name in ("baseline_days", "sigma", "weight", "timezone"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        data["to"] = self.to.to_data()
        if self.playbook is not None:
            data["playbook"] = self.playbook
        return data


def spike_policy_from_data(
    data: Mapping[Any, Any], errors: list[FieldError], path: str
) -> SpikePolicy | None:
    """A spike policy from data (``"kind": "spike"``); problems go to ``errors``."""
    start = len(errors)
    errors.extend(unknown(data, _KEYS, path))
    errors.extend(
        FieldError(join_path(path, name), MISSING, f"the spike policy's {name}")
        for name in ("name", "count", "by", "to")
        if name not in data
    )
    kwargs: dict[str, Any] = {
        name: data[name] for name in _KEYS if name in data and name not in ("kind", "to", "scope")
    }
    if "to" in data:
        kwargs["to"] = read_target(data["to"], errors, join_path(path, "to"))
    if "scope" in data:
        kwargs["scope"] = read_scope(data["scope"], errors, join_path(path, "scope"))
    return build(SpikePolicy, kwargs, errors, path, start)  # type: ignore[no-any-return]
