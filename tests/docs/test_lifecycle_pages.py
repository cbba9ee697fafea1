"""The lifecycle pages show the real diagram and name everything they describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from servicedelivery import lifecycle
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Guard, Trigger, ViolationKind

ROOT = Path(__file__).resolve().parents[2]
EXPLANATION = (ROOT / "docs/explanation/lifecycle.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs/reference/lifecycle.md").read_text(encoding="utf-8")
MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_explanation_embeds_the_generated_diagram() -> None:
    diagrams = MERMAID.findall(EXPLANATION)
    assert diagrams == [DEFAULT_LIFECYCLE.mermaid()]


@pytest.mark.parametrize("name", lifecycle.__all__)
def test_every_public_name_is_in_the_reference(name: str) -> None:
    assert f"`{name}" in REFERENCE


def test_every_trigger_guard_and_kind_is_in_the_reference() -> None:
    for code, trigger in enumerate(Trigger):
        assert f"| `{trigger.value}` | {code} |" in REFERENCE
    for guard in Guard:
        assert f"| `{guard.value}` |" in REFERENCE
    for kind in ViolationKind:
        assert f"| `{kind.name}` | {kind.value} |" in REFERENCE
        assert f"`{kind.label}`" in EXPLANATION + REFERENCE
