"""The policy reference names every public name, and shows the JSON Schema as it is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from servicedelivery import policy

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs/reference/policy.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", policy.__all__)
def test_every_policy_name_is_in_the_reference(name: str) -> None:
    assert f"`{name}" in REFERENCE, name


def test_the_reference_shows_the_schema_as_policy_json_schema_gives_it() -> None:
    blocks = [json.loads(b) for b in re.findall(r"^```json\n(.*?)^```", REFERENCE, re.M | re.S)]
    [schema] = [block for block in blocks if "$schema" in block]
    assert schema == policy.policy_json_schema()


def test_every_measure_is_defined_in_the_explanation() -> None:
    page = (ROOT / "docs/explanation/policy-measures.md").read_text(encoding="utf-8")
    for measure in policy.Measure:
        assert f"### `{measure.value}`" in page, measure
