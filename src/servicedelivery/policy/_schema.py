"""The policy format as JSON Schema (draft 2020-12), for host user interfaces and editors.

The schema describes the structure of the data :meth:`PolicySet.from_data` reads: keys, types,
enumerations and the shapes of durations. Checks across fields (levels in order, a scope within
the policy's, names unique, an SLA named for SLA measures, ...) are the loader's; it reports them
with their paths.
"""

from __future__ import annotations

import copy
from typing import Any

from servicedelivery.model import OWNERS, STATES
from servicedelivery.policy._conditions import FIELD_OPS, ORDER_OPS, Measure, MeasureKind
from servicedelivery.policy._policy import Action
from servicedelivery.policy._spike_policy import Chart, SpikeCount

__all__ = ["policy_json_schema"]

_ID = "https://servicedelivery.dev/schemas/policy-set.json"
_TEXT = {"type": "string"}
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_COMPACT = r"-?\s*([0-9]+(\.[0-9]+)?\s*[wdhms]\s*)+"
_AMOUNT = r"[0-9]+(\.[0-9]+)?"
_ISO = f"-?P({_AMOUNT}W)?({_AMOUNT}D)?(T({_AMOUNT}H)?({_AMOUNT}M)?({_AMOUNT}S)?)?"
_BUSINESS = r"-?\s*[0-9]+(\.[0-9]+)?\s+business\s+(day|days|hour|hours)"
_CALENDAR = f"^\\s*({_COMPACT}|{_ISO})\\s*$"


def _one_of_values(enum: Any) -> list[str]:
    return [member.value for member in enum]


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _field_leaf() -> dict[str, Any]:
    one = {"type": "string", "minLength": 1}
    many = {"type": "array", "items": one, "minItems": 1}
    variants = []
    for op in FIELD_OPS:
        value = one if op.value in ("eq", "ne") else many
        variants.append(
            _object(
                {"field": {"type": "string", "minLength": 1}, op.value: value}, ("field", op.value)
            )
        )
    return {
        "oneOf": variants,
        "description": "A comparison of a field: state, owner, reason, or an attribute.",
    }


def _measure_leaf() -> dict[str, Any]:
    variants = []
    for measure in Measure:
        if measure.kind is MeasureKind.DURATION:
            threshold: dict[str, Any] = {"$ref": "#/$defs/duration"}
        elif measure.kind is MeasureKind.PROBABILITY:
            threshold = {"type": "number", "minimum": 0, "maximum": 1}
        else:
            threshold = {"type": "number", "minimum": 0}
        for op in ORDER_OPS:
            properties: dict[str, Any] = {"measure": {"const": measure.value}, op.value: threshold}
            required: tuple[str, ...] = ("measure", op.value)
            if measure.needs_sla:
                properties["sla"] = {"type": "string", "minLength": 1}
                required = (*required, "sla")
            variants.append(_object(properties, required))
    return {"oneOf": variants, "description": "A comparison of a measure with a threshold."}


def _schema() -> dict[str, Any]:
    condition = {"$ref": "#/$defs/condition"}
    duration = {"$ref": "#/$defs/duration"}
    target = {"$ref": "#/$defs/target"}
    scope = {"$ref": "#/$defs/scope"}
    levels = {"type": "array", "items": {"$ref": "#/$defs/level"}, "minItems": 1}
    noise = {"hold": duration, "repeat": duration, "clear_after": duration}
    defs: dict[str, Any] = {
        "duration": {
            "description": (
                "Calendar time ('5d', '36h', 'P5D', 'PT36H'); working time under the item's "
                "calendar ('5 business days', '8 business hours', or {'working': '40h'})."
            ),
            "oneOf": [
                {"type": "string", "pattern": _CALENDAR},
                {"type": "string", "pattern": f"^\\s*{_BUSINESS}\\s*$"},
                _object({"working": {"type": "string", "pattern": _CALENDAR}}, ("working",)),
            ],
        },
        "condition": {
            "oneOf": [
                _object(
                    {"all_of": {"type": "array", "items": condition, "minItems": 1}}, ("all_of",)
                ),
                _object(
                    {"any_of": {"type": "array", "items": condition, "minItems": 1}}, ("any_of",)
                ),
                _object({"not": condition}, ("not",)),
                {"$ref": "#/$defs/field_leaf"},
                {"$ref": "#/$defs/measure_leaf"},
            ]
        },
        "field_leaf": _field_leaf(),
        "measure_leaf": _measure_leaf(),
        "target": {
            "oneOf": [
                _object({"owner": {"enum": [*_one_of_values(OWNERS), "{owner}"]}}, ("owner",)),
                _object({"queue": {"type": "string", "minLength": 1}}, ("queue",)),
            ]
        },
        "scope": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                ]
            },
        },
        "level": _object({"to": target, "after": duration, "when": condition}, ("to",)),
        "override": _object(
            {
                "scope": scope,
                "when": condition,
                "to": target,
                "levels": levels,
                **noise,
                "playbook": _TEXT,
            },
            ("scope",),
        ),
        "policy": _object(
            {
                "name": _NAME,
                "description": _TEXT,
                "scope": scope,
                "when": condition,
                "action": {"enum": _one_of_values(Action)},
                "to": target,
                "levels": levels,
                **noise,
                "playbook": _TEXT,
                "overrides": {"type": "array", "items": {"$ref": "#/$defs/override"}},
            },
            ("name", "when", "action"),
        ),
        "spike_policy": _object(
            {
                "name": _NAME,
                "kind": {"const": "spike"},
                "description": _TEXT,
                "scope": scope,
                "count": {"enum": _one_of_values(SpikeCount)},
                "by": {"type": "string", "minLength": 1},
                "chart": {"enum": _one_of_values(Chart)},
                "baseline_days": {"type": "integer", "minimum": 2, "maximum": 3660},
                "sigma": {"type": "number", "exclusiveMinimum": 0},
                "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "timezone": {"type": "string", "minLength": 1},
                "to": target,
                "playbook": _TEXT,
            },
            ("name", "kind", "count", "by", "to"),
        ),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID,
        "title": "servicedelivery policy set",
        "description": (
            "Policies as data: item policies (escalate, route, tag) and spike policies. States: "
            + ", ".join(_one_of_values(STATES))
            + "."
        ),
        "type": "object",
        "properties": {
            "policies": {
                "type": "array",
                "items": {"oneOf": [{"$ref": "#/$defs/policy"}, {"$ref": "#/$defs/spike_policy"}]},
            }
        },
        "required": ["policies"],
        "additionalProperties": False,
        "$defs": defs,
    }


_SCHEMA = _schema()


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy set document, ``{"policies": [...]}``.

    One policy is ``schema["$defs"]["policy"]`` (or ``["spike_policy"]``). A fresh copy each call.
    """
    return copy.deepcopy(_SCHEMA)
