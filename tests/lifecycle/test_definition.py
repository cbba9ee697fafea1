from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from hypothesis import given

from servicedelivery.errors import DefinitionError, ValidationError
from servicedelivery.lifecycle import (
    DEFAULT_LIFECYCLE,
    Guard,
    Lifecycle,
    LifecycleState,
    TransitionRule,
    Trigger,
)
from servicedelivery.model import STATES, MilestoneState
from servicedelivery.testing import lifecycles
from tests.lifecycle.reference import DEFAULT_MOVES, GUARDED

BLOCK_GUARDS = ["needs_reason", "needs_owner", "owner_matches_reason"]


def test_default_codes_coincide_with_the_model_and_the_trigger_enum() -> None:
    assert DEFAULT_LIFECYCLE.state_names == tuple(state.value for state in STATES)
    assert DEFAULT_LIFECYCLE.trigger_names == tuple(trigger.value for trigger in Trigger)
    assert DEFAULT_LIFECYCLE.initial == "planned"
    assert DEFAULT_LIFECYCLE.terminal_states == ("cancelled",)
    for state in STATES:
        assert DEFAULT_LIFECYCLE.category(state.value) is state
        assert DEFAULT_LIFECYCLE.state_code(state.value) == STATES.index(state)
    for code, trigger in enumerate(Trigger):
        assert DEFAULT_LIFECYCLE.trigger_code(trigger) == code


def test_default_moves_are_the_ones_written_by_hand() -> None:
    declared = {
        (source, rule.trigger): rule.dest
        for rule in DEFAULT_LIFECYCLE.transitions
        for source in rule.sources
    }
    assert declared == DEFAULT_MOVES
    for rule in DEFAULT_LIFECYCLE.transitions:
        expected = set(BLOCK_GUARDS) if rule.trigger in GUARDED else set()
        assert {guard.value for guard in rule.guards} == expected


@pytest.mark.parametrize("state", [s.value for s in STATES])
def test_allowed_triggers_follow_the_moves(state: str) -> None:
    expected = tuple(t.value for t in Trigger if (state, t.value) in DEFAULT_MOVES)
    assert DEFAULT_LIFECYCLE.allowed_triggers(state) == expected


def test_default_round_trips_through_data_and_json() -> None:
    data = DEFAULT_LIFECYCLE.to_data()
    again = Lifecycle.from_json(json.dumps(data))
    assert again == DEFAULT_LIFECYCLE
    assert again.to_data() == data


@given(lifecycles())
def test_custom_lifecycles_round_trip_unchanged(lifecycle: Lifecycle) -> None:
    data = json.loads(json.dumps(lifecycle.to_data()))
    again = Lifecycle.from_data(data)
    assert again == lifecycle
    assert again.to_data() == data
    assert again.state_names == lifecycle.state_names
    assert again.trigger_names == lifecycle.trigger_names


@given(lifecycles())
def test_lifecycles_pickle_to_an_equal_working_lifecycle(lifecycle: Lifecycle) -> None:
    clone = pickle.loads(pickle.dumps(lifecycle))
    assert clone == lifecycle
    for state in lifecycle.state_names:
        assert clone.allowed_triggers(state) == lifecycle.allowed_triggers(state)


def _default_data() -> dict[str, Any]:
    return DEFAULT_LIFECYCLE.to_data()


def _problems(data: object) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        Lifecycle.from_data(data)
    return [(error.path, error.expected) for error in caught.value.errors]


def test_short_forms_are_accepted() -> None:
    lifecycle = Lifecycle.from_data(
        {
            "name": "tiny",
            "initial": "planned",
            "states": [{"name": "planned"}, {"name": "done", "terminal": True}],
            "transitions": [{"trigger": "finish", "sources": "planned", "dest": "done"}],
        }
    )
    assert lifecycle.category("done") is MilestoneState.DONE
    assert lifecycle.transitions[0].sources == ("planned",)
    assert lifecycle.transitions[0].guards == ()


def test_every_definition_problem_is_reported_at_once_with_its_path() -> None:
    data = {
        "name": "Bad Name",
        "initial": "nowhere",
        "states": [
            {"name": "planned", "category": "planned"},
            {"name": "planned", "category": "planned"},  # repeated
            {"name": "waiting", "category": "blocked"},  # no exits, not terminal
            {"name": "done", "category": "cancelled"},  # canonical name, other category; no exits
            {"name": "cancelled", "category": "cancelled", "terminal": True},
            # Unreachable, but with the initial state unknown reachability is not judged.
            {"name": "island", "category": "in_progress", "terminal": True},
        ],
        "transitions": [
            {"trigger": "wait", "sources": ["planned"], "dest": "waiting"},  # blocked, no guards
            {"trigger": "finish", "sources": ["planned", "ghost"], "dest": "done",
             "guards": ["needs_reason"]},  # unknown source; guards into a non-blocked state
            {"trigger": "finish", "sources": ["planned"], "dest": "cancelled"},  # second target
            {"trigger": "revive", "sources": ["cancelled"], "dest": "limbo"},  # terminal exit
        ],
    }  # fmt: skip
    problems = _problems(data)
    paths = [path for path, _ in problems]
    assert paths == [
        "name",
        "states[1].name",
        "states[3].category",
        "initial",
        "transitions[0].guards",
        "transitions[1].sources[1]",
        "transitions[1].guards",
        "transitions[2].sources[0]",
        "transitions[3].dest",
        "states[2].terminal",
        "states[3].terminal",
        "states[4].terminal",
    ]
    expected = dict(problems)
    assert "'blocked'" not in expected["states[3].category"]
    assert "a blocked state" in expected["transitions[0].guards"]
    assert "transitions[1]" in expected["transitions[2].sources[0]"]
    assert "no exits" in expected["states[4].terminal"]


def test_unreachable_states_are_errors() -> None:
    data = _default_data()
    data["states"].append({"name": "island", "category": "in_progress", "terminal": True})
    assert _problems(data) == [
        ("states[5]", "a state reachable from the initial state 'planned' by some transition")
    ]


def test_a_state_without_exits_must_be_declared_terminal() -> None:
    data = _default_data()
    data["transitions"] = [t for t in data["transitions"] if t["trigger"] != "reopen"]
    [(path, expected)] = _problems(data)
    assert path == "states[3].terminal"
    assert expected.startswith("true")


@pytest.mark.parametrize(
    "guards",
    [[], ["needs_reason"], ["needs_owner", "owner_matches_reason"]],
)
def test_a_blocked_state_needs_reason_and_owner_on_every_way_in(guards: list[str]) -> None:
    data = _default_data()
    data["transitions"][3]["guards"] = guards  # reclassify: blocked -> blocked
    [(path, expected)] = _problems(data)
    assert path == "transitions[3].guards"
    assert "needs_reason and needs_owner" in expected


def test_malformed_data_is_reported_with_paths() -> None:
    problems = _problems(
        {
            "name": "x",
            "states": [{"name": "a_state"}, {"name": "planned", "category": "sleeping"}, 5],
            "transitions": [{"trigger": "go", "sources": [], "dest": "planned",
                             "guards": ["psychic"]}, {"sources": ["planned"]}],
            "colour": "red",
        }
    )  # fmt: skip
    paths = [path for path, _ in problems]
    assert paths == [
        "colour",
        "initial",
        "states[0].category",
        "states[1].category",
        "states[2]",
        "transitions[0].sources",
        "transitions[0].guards[0]",
        "transitions[1].trigger",
        "transitions[1].dest",
    ]


def test_not_a_mapping_and_bad_json() -> None:
    assert _problems([1, 2]) == [("", "a mapping with name, initial, states and transitions")]
    with pytest.raises(DefinitionError):
        Lifecycle.from_json("{not json")


def test_constructor_refuses_what_is_not_a_definition() -> None:
    with pytest.raises(DefinitionError) as caught:
        Lifecycle(name=3, states=["planned"], transitions=[None], initial=None)  # type: ignore[arg-type]
    assert [e.path for e in caught.value.errors] == [
        "states[0]", "transitions[0]", "name", "initial"
    ]  # fmt: skip


def test_extends_the_default_with_a_state_and_a_different_reopen_rule() -> None:
    lifecycle = Lifecycle.from_data(
        {
            "extends": "default",
            "name": "with_acceptance",
            "states": [
                {"name": "awaiting_acceptance", "category": "in_progress"},
                # Cancelled work may be reopened here, so cancelled is no longer terminal.
                {"name": "cancelled", "category": "cancelled"},
            ],
            "transitions": [
                {"trigger": "submit", "sources": ["in_progress"], "dest": "awaiting_acceptance"},
                {"trigger": "accept", "sources": ["awaiting_acceptance"], "dest": "done"},
                {"trigger": "reject", "sources": ["awaiting_acceptance"], "dest": "in_progress"},
                {"trigger": "reopen", "sources": ["done", "cancelled"], "dest": "planned"},
                {"trigger": "cancel", "sources": ["planned", "in_progress", "blocked",
                                                  "awaiting_acceptance"], "dest": "cancelled"},
            ],
            "remove": ["complete"],
        }
    )  # fmt: skip
    assert lifecycle.state_names[:5] == DEFAULT_LIFECYCLE.state_names
    assert lifecycle.state_names[5] == "awaiting_acceptance"
    # Replaced triggers keep their codes; removed ones go; new ones follow.
    assert lifecycle.trigger_names == (
        "start", "block", "unblock", "reclassify", "cancel", "reopen", "submit", "accept", "reject"
    )  # fmt: skip
    assert lifecycle.next_state("cancelled", "reopen") == "planned"
    assert lifecycle.terminal_states == ()
    assert lifecycle.allowed_triggers("in_progress") == ("block", "cancel", "submit")


def test_extending_can_break_the_definition_and_says_so() -> None:
    with pytest.raises(DefinitionError) as caught:
        DEFAULT_LIFECYCLE.extended(name="broken", remove=["reopen"])
    assert [e.path for e in caught.value.errors] == ["states[3].terminal"]


def test_extended_replaces_a_state_in_place() -> None:
    lifecycle = DEFAULT_LIFECYCLE.extended(
        name="final_done",
        states=[LifecycleState(name="done", category=MilestoneState.DONE, terminal=True)],
        remove=["reopen"],
    )
    assert lifecycle.state_names == DEFAULT_LIFECYCLE.state_names
    assert lifecycle.terminal_states == ("done", "cancelled")


def test_rule_and_state_values_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        TransitionRule(trigger="Go!", sources=(), dest="x", guards=("needs_reason",))  # type: ignore[arg-type]
    assert [e.path for e in caught.value.errors] == ["trigger", "sources", "guards"]
    with pytest.raises(ValidationError):
        TransitionRule(trigger="go", sources=(), dest="x")
    rule = TransitionRule(trigger="go", sources=["a"], dest="b", guards=[Guard.NEEDS_REASON])  # type: ignore[arg-type]
    assert rule.sources == ("a",)
    assert rule.guards == (Guard.NEEDS_REASON,)


def test_unknown_names_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="state of lifecycle 'default'"):
        DEFAULT_LIFECYCLE.category("asleep")
    with pytest.raises(ValidationError, match="trigger of lifecycle 'default'"):
        DEFAULT_LIFECYCLE.trigger_code("nap")
    with pytest.raises(ValidationError):
        DEFAULT_LIFECYCLE.allowed_triggers(["planned"])  # type: ignore[arg-type]
