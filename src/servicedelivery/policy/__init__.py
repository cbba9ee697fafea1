"""Policies declared as data: escalations, routing and risk queues, evaluated in bulk or per item."""

from servicedelivery.policy._backtest import Backtest, backtest
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
from servicedelivery.policy._escalations import Escalations
from servicedelivery.policy._evaluate import evaluate
from servicedelivery.policy._findings import FindingAction, Findings
from servicedelivery.policy._forecast import CompletionForecast, forecast_completion
from servicedelivery.policy._policy import Action, Override, Policy
from servicedelivery.policy._policyset import PolicySet
from servicedelivery.policy._schema import policy_json_schema
from servicedelivery.policy._single import ItemHistory, evaluate_item
from servicedelivery.policy._spike_policy import Chart, SpikeCount, SpikePolicy
from servicedelivery.policy._targets import Level, Scope, Target, TargetKind
from servicedelivery.policy._trail import (
    escalation_events,
    escalation_stream,
    escalations_from_columns,
    escalations_from_log,
    record_escalations,
)

__all__ = [
    "Action",
    "AllOf",
    "AnyOf",
    "Backtest",
    "Chart",
    "Clock",
    "CompletionForecast",
    "Condition",
    "Duration",
    "Escalations",
    "FieldTest",
    "FindingAction",
    "Findings",
    "ItemHistory",
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
    "backtest",
    "escalation_events",
    "escalation_stream",
    "escalations_from_columns",
    "escalations_from_log",
    "evaluate",
    "evaluate_item",
    "field",
    "forecast_completion",
    "measure",
    "not_",
    "policy_json_schema",
    "record_escalations",
]
