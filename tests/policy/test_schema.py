"""The JSON Schema describes every policy the loader reads, and refuses what it cannot read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.policy import Policy, PolicySet, policy_json_schema
from tests.policy.schema_check import ANNOTATIONS, KEYWORDS, problems
from tests.policy.strategies import policies, spike_policies
from tests.policy.test_definitions import OPERATOR_RULE

SCHEMA = policy_json_schema()


def test_the_schema_is_draft_2020_12_json_and_a_fresh_copy_each_time() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA
    policy_json_schema()["$defs"].clear()
    assert policy_json_schema() == SCHEMA


def _keywords(schema: dict[str, Any]) -> set[str]:
    """Every keyword used in ``schema`` and in the schemas within it."""
    found = set(schema)
    children = [*schema.get("properties", {}).values(), *schema.get("$defs", {}).values()]
    children += [schema[name] for name in ("items", "additionalProperties") if name in schema]
    children += schema.get("oneOf", [])
    for child in children:
        if isinstance(child, dict):
            found |= _keywords(child)
    return found


def test_the_checker_reads_every_keyword_the_schema_uses() -> None:
    # Otherwise a new keyword (maxItems, anyOf, ...) would pass the tests below unchecked.
    assert _keywords(SCHEMA) - ANNOTATIONS <= KEYWORDS
    assert "pattern" in _keywords(SCHEMA)  # the walk reaches the nested definitions


@given(st.lists(policies(), min_size=0, max_size=2), st.lists(spike_policies(), max_size=1))
def test_every_policy_set_the_loader_writes_validates(items: list[Any], spikes: list[Any]) -> None:
    renamed = [Policy.from_data({**p.to_data(), "name": f"p{i}"}) for i, p in enumerate(items)]
    data = PolicySet([*renamed, *spikes]).to_data()
    assert problems(SCHEMA, data, SCHEMA) == []


def test_the_operators_rule_validates_and_broken_documents_do_not() -> None:
    assert problems(SCHEMA, {"policies": [OPERATOR_RULE]}, SCHEMA) == []
    broken: list[dict[str, Any]] = [
        {**OPERATOR_RULE, "colour": "red"},
        {**OPERATOR_RULE, "action": "shout"},
        {**OPERATOR_RULE, "when": {"measure": "blocked_for", "gt": "five days"}},
        {**OPERATOR_RULE, "when": {"measure": "sla_fraction_used", "gt": 0.5}},
        {**OPERATOR_RULE, "levels": [{"to": {"owner": "nobody"}}]},
        {key: value for key, value in OPERATOR_RULE.items() if key != "when"},
    ]
    for policy in broken:
        assert problems(SCHEMA, {"policies": [policy]}, SCHEMA), policy


ROOT = Path(__file__).resolve().parents[2]
JSON_FENCE = re.compile(r"^```json\n(.*?)^```", re.MULTILINE | re.DOTALL)
POLICY_PAGES = ["docs/howto/write-policies.md", "docs/reference/policy.md"]


def _documented_policies() -> list[tuple[str, Any]]:
    found = []
    for page in POLICY_PAGES:
        for number, match in enumerate(JSON_FENCE.finditer((ROOT / page).read_text("utf-8"))):
            data = json.loads(match.group(1))
            if isinstance(data, dict) and ("name" in data or "policies" in data):
                found.append((f"{page}#{number}", data))
    return found


def test_the_docs_show_policies() -> None:
    assert len(_documented_policies()) >= 2


@pytest.mark.parametrize(("where", "data"), _documented_policies(), ids=lambda v: str(v)[:60])
def test_every_policy_in_the_docs_validates_and_loads(where: str, data: Any) -> None:
    document = data if "policies" in data else {"policies": [data]}
    assert problems(SCHEMA, document, SCHEMA) == [], where
    assert PolicySet.from_data(document).to_data() == document
