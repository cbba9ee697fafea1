"""Explanations as plain data: the condition tree with what was measured at every leaf.

The bulk and the single-item paths both describe a finding with the same function, from the same
scalar facts per node, so their explanations are equal whenever their facts are.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from servicedelivery.policy._conditions import (
    Condition,
    FieldTest,
    MeasureKind,
    MeasureTest,
    Not,
)
from servicedelivery.policy._durations import Duration, format_iso_duration

__all__ = ["NodeFacts", "describe", "iso", "plain"]

_NONE = np.iinfo(np.int64).min


class NodeFacts(NamedTuple):
    """What one node of a condition found for one item (leaves fill every field)."""

    holds: bool
    since: int
    value: Any = None
    threshold: Any = None
    evidence: Any = None


def iso(ns: int) -> str:
    """An instant as ISO 8601 in UTC, exact: ``2024-03-05T09:00:00Z``, with a fraction if any."""
    text = str(np.datetime_as_string(np.int64(ns).view("M8[ns]"), unit="ns"))
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


def plain(value: object) -> Any:
    """A numpy scalar as the Python value it holds."""
    return value.item() if isinstance(value, np.generic) else value


def describe(condition: Condition, facts: Iterator[NodeFacts]) -> dict[str, Any]:
    """A condition with its facts, in preorder, as plain data."""
    node = next(facts)
    if isinstance(condition, FieldTest):
        data = condition.to_data()
        data["value"] = node.value
    elif isinstance(condition, MeasureTest):
        data = condition.to_data()
        data.update(_measured(condition, node))
    elif isinstance(condition, Not):
        data = {"not": describe(condition.condition, facts)}
    else:
        data = {condition.combinator: [describe(child, facts) for child in condition.conditions]}
    data["holds"] = bool(node.holds)
    data["since"] = iso(node.since)
    if isinstance(condition, (FieldTest, MeasureTest)):
        data["evidence"] = node.evidence
    return data


def _measured(test: MeasureTest, node: NodeFacts) -> dict[str, Any]:
    if test.measure.kind is MeasureKind.DURATION:
        assert isinstance(test.threshold, Duration)
        value = None if node.value == _NONE else format_iso_duration(node.value)
        return {
            "value": value,
            "threshold": format_iso_duration(node.threshold),
            "clock": test.threshold.clock.value,
        }
    number = float(node.value)
    return {"value": None if math.isnan(number) else number}
