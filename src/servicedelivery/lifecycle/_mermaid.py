"""Drawing a lifecycle: a Mermaid state diagram generated from the definition."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicedelivery.lifecycle._definition import ordered_guards
from servicedelivery.model import MilestoneState

if TYPE_CHECKING:
    from servicedelivery.lifecycle._lifecycle import Lifecycle

__all__ = ["mermaid"]

_BLOCKED_STYLE = "fill:#fde2e1,stroke:#b42318"


def mermaid(lifecycle: Lifecycle) -> str:
    """The lifecycle as a Mermaid ``stateDiagram-v2``, one line per (source, trigger).

    A state whose name is not its category's is labelled with its category; blocked states are
    shaded; an arrow from ``[*]`` marks the initial state and an arrow to ``[*]`` each terminal
    state. Guards appear in brackets after the trigger.
    """
    lines = ["stateDiagram-v2", f"    [*] --> {lifecycle.initial}"]
    lines.extend(
        f"    {state.name}: {state.name} ({state.category.value})"
        for state in lifecycle.states
        if state.name != state.category.value
    )
    for rule in lifecycle.transitions:
        label = rule.trigger
        if rule.guards:
            label += " [" + ", ".join(g.phrase for g in ordered_guards(rule.guards)) + "]"
        lines.extend(f"    {source} --> {rule.dest}: {label}" for source in rule.sources)
    lines.extend(f"    {name} --> [*]" for name in lifecycle.terminal_states)
    blocked = [s.name for s in lifecycle.states if s.category is MilestoneState.BLOCKED]
    if blocked:
        lines.append(f"    classDef blockedState {_BLOCKED_STYLE}")
        lines.append(f"    class {','.join(blocked)} blockedState")
    return "\n".join(lines) + "\n"
