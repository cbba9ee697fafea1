"""The SLA pages name everything they describe."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from servicedelivery import sla
from servicedelivery.sla import SLA, SLAClock, SLAClocks

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs/reference/sla.md").read_text(encoding="utf-8")
EXPLANATION = (ROOT / "docs/explanation/sla-clocks.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sla.__all__)
def test_every_public_name_is_in_the_reference(name: str) -> None:
    assert f"`{name}" in REFERENCE, name


@pytest.mark.parametrize("cls", [SLA, SLAClocks, SLAClock], ids=lambda c: c.__name__)
def test_every_public_field_is_in_the_reference(cls: type) -> None:
    for field in attrs.fields(cls):
        if not field.name.startswith("_"):
            assert f"`{field.name}`" in REFERENCE, (cls.__name__, field.name)


def test_every_clock_field_is_defined_in_the_explanation() -> None:
    for name in (
        "start_ns",
        "elapsed_ns",
        "paused_ns",
        "paused_by_owner",
        "remaining_ns",
        "fraction_used",
        "stage",
        "breach_ns",
        "met",
        "evidence",
        "passes",
    ):
        assert f"`{name}`" in EXPLANATION, name


def test_the_reference_data_format_example_loads() -> None:
    example = REFERENCE.split("```json\n", 1)[1].split("```", 1)[0]
    sla = SLA.from_json(example)
    assert [stage.name for stage in sla.stages] == ["at_risk", "breached"]
    assert SLA.from_data(sla.to_data()) == sla
