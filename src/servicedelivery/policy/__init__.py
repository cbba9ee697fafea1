"""Policies declared as data: escalations, routing and risk queues, evaluated in bulk or per item."""

from servicedelivery.policy._conditions import (
    AllOf,
    AnyOf,
    Condition,
    FieldTest,
    Measure,
    MeasureKind,
    MeasureTest,
    Not,
    Op,
    all_of,
    any_of,
    field,
    measure,
    not_,
)
from servicedelivery.policy._durations import Clock, Duration
from servicedelivery.policy._policy import Action, Override, Policy
from servicedelivery.policy._policyset import PolicySet
from servicedelivery.policy._spike_policy import Chart, SpikeCount, SpikePolicy
from servicedelivery.policy._targets import Level, Scope, Target, TargetKind

__all__ = [
    "Action",
    "AllOf",
    "AnyOf",
    "Chart",
    "Clock",
    "Condition",
    "Duration",
    "FieldTest",
    "Level",
    "Measure",
    "MeasureKind",
    "MeasureTest",
    "Not",
    "Op",
    "Override",
    "Policy",
    "PolicySet",
    "Scope",
    "SpikeCount",
    "SpikePolicy",
    "Target",
    "TargetKind",
    "all_of",
    "any_of",
    "field",
    "measure",
    "not_",
]
