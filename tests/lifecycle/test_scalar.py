"""The scalar check (next_state) and the machine (apply) on single milestones."""

from __future__ import annotations

import pickle

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import InvalidTransition, ValidationError
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle, Trigger
from servicedelivery.model import DEFAULT_TAXONOMY, Milestone, MilestoneState, Owner
from servicedelivery.testing import lifecycles, milestones
from tests.lifecycle.reference import DEFAULT_MOVES, milestone_in, outcome

L = DEFAULT_LIFECYCLE
PLANNED = Milestone(id="M-1", order_id="O-1", step="site_survey")


def _in(state: str, **details: str) -> Milestone:
    """The milestone moved into ``state`` by legal default triggers."""
    paths = {
        "planned": [],
        "in_progress": [("start", {})],
        "blocked": [("block", {"reason": "site_access", "owner": "customer"})],
        "done": [("start", {}), ("complete", {})],
        "cancelled": [("cancel", {})],
    }
    milestone = PLANNED
    for trigger, kwargs in paths[state]:
        milestone = L.apply(milestone, trigger, **kwargs)
    return milestone


@pytest.mark.parametrize("state", [s.value for s in MilestoneState])
@pytest.mark.parametrize("trigger", [t.value for t in Trigger])
def test_every_state_and_trigger_against_the_hand_written_moves(state: str, trigger: str) -> None:
    details = {"reason": "site_access", "owner": "customer"}
    expected = DEFAULT_MOVES.get((state, trigger))
    milestone = _in(state)
    if expected is None:
        with pytest.raises(InvalidTransition) as caught:
            L.next_state(state, trigger, **details)
        assert caught.value.reason is None
        with pytest.raises(InvalidTransition) as from_machine:
            L.apply(milestone, trigger, **details)
        assert from_machine.value.allowed == caught.value.allowed
        assert from_machine.value.item == "M-1"
        assert from_machine.value.state == state
        assert from_machine.value.trigger == trigger
        assert from_machine.value.allowed == tuple(
            sorted(t for (s, t) in DEFAULT_MOVES if s == state)
        )
        return
    assert L.next_state(state, trigger, **details) == expected
    moved = L.apply(milestone, trigger, **details)
    assert moved.state_name == expected
    assert moved.status is None
    if expected == "blocked":
        assert (moved.owner, moved.reason) == (Owner.CUSTOMER, "site_access")
    else:
        assert (moved.owner, moved.reason) == (None, None)
    moving = {"state", "status", "owner", "reason"}
    kept = {k: v for k, v in attrs.asdict(moved).items() if k not in moving}
    assert kept == {k: v for k, v in attrs.asdict(milestone).items() if k not in moving}


def test_the_message_names_milestone_state_trigger_and_allowed() -> None:
    with pytest.raises(InvalidTransition) as caught:
        L.apply(PLANNED, "complete")
    assert str(caught.value) == (
        "milestone 'M-1' in state 'planned' cannot 'complete'; "
        "allowed from 'planned': block, cancel, start"
    )
    with pytest.raises(InvalidTransition, match=r"cancelled.*none \(terminal state\)"):
        L.apply(_in("cancelled"), "reopen")


@pytest.mark.parametrize(
    ("details", "words"),
    [
        ({}, "a blocked reason is required"),
        ({"reason": "site_access"}, "an owner is required"),
        ({"owner": "customer"}, "a blocked reason is required"),
        ({"reason": "site_access", "owner": "noc"}, "is not the owner of reason 'site_access'"),
    ],
)
def test_block_guards_refuse_with_a_reason(details: dict[str, str], words: str) -> None:
    for call in (
        lambda: L.next_state("in_progress", "block", item="M-1", **details),
        lambda: L.apply(_in("in_progress"), "block", **details),
    ):
        with pytest.raises(InvalidTransition) as caught:
            call()
        assert caught.value.reason is not None
        assert words in caught.value.reason
        assert caught.value.allowed == ("block", "cancel", "complete")
        assert words in str(caught.value)


def test_an_override_assigns_another_owner() -> None:
    blocked = L.apply(
        _in("in_progress"), "block", reason="site_access", owner=Owner.NOC, override=True
    )
    assert (blocked.state, blocked.owner, blocked.reason) == (
        MilestoneState.BLOCKED, Owner.NOC, "site_access"
    )  # fmt: skip
    moved = L.apply(blocked, "reclassify", reason="provider_fault", owner="provider")
    assert (moved.owner, moved.reason) == (Owner.PROVIDER, "provider_fault")
    assert L.apply(moved, "unblock").owner is None


def test_details_are_ignored_by_moves_without_guards() -> None:
    moved = L.apply(PLANNED, "start", reason="site_access", owner="customer")
    assert (moved.state, moved.owner, moved.reason) == (MilestoneState.IN_PROGRESS, None, None)


def test_bad_values_are_validation_errors_listed_together() -> None:
    with pytest.raises(ValidationError) as caught:
        L.next_state("in_progress", "block", reason="moon_phase", owner="landlord", override="yes")  # type: ignore[arg-type]
    assert [e.path for e in caught.value.errors] == ["reason", "owner", "override"]
    with pytest.raises(ValidationError, match="state of lifecycle 'default'"):
        L.next_state("asleep", "start")
    with pytest.raises(ValidationError):
        L.next_state("planned", ["start"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        L.apply("M-1", "start")  # type: ignore[arg-type]


def test_enum_members_read_as_their_names_in_refusals() -> None:
    with pytest.raises(InvalidTransition) as caught:
        L.next_state(MilestoneState.PLANNED, Trigger.COMPLETE)
    assert (caught.value.state, caught.value.trigger) == ("planned", "complete")
    assert type(caught.value.trigger) is str
    assert "cannot 'complete'" in str(caught.value)
    with pytest.raises(InvalidTransition) as guarded:
        L.next_state(MilestoneState.IN_PROGRESS, Trigger.BLOCK)
    assert "state 'in_progress' cannot 'block': a blocked reason" in str(guarded.value)
    assert L.next_state(MilestoneState.PLANNED, Trigger.START) == "in_progress"


def test_unknown_triggers_are_refused_like_illegal_ones() -> None:
    with pytest.raises(InvalidTransition) as caught:
        L.next_state("planned", "teleport")
    with pytest.raises(InvalidTransition) as from_machine:
        L.apply(PLANNED, "teleport")
    assert caught.value.allowed == from_machine.value.allowed == ("block", "cancel", "start")


def test_a_milestone_outside_the_lifecycle_is_refused() -> None:
    custom = Lifecycle.from_data(
        {
            "name": "only_custom",
            "initial": "queued",
            "states": [{"name": "queued", "category": "planned"},
                       {"name": "shipped", "category": "done", "terminal": True}],
            "transitions": [{"trigger": "ship", "sources": "queued", "dest": "shipped"}],
        }
    )  # fmt: skip
    with pytest.raises(ValidationError, match=r"milestone\.state"):
        custom.apply(PLANNED, "ship")
    wrong = attrs.evolve(PLANNED, status="queued", state=MilestoneState.IN_PROGRESS)
    with pytest.raises(ValidationError, match=r"'planned', the category of state 'queued'"):
        custom.apply(wrong, "ship")
    queued = attrs.evolve(PLANNED, status="queued")
    shipped = custom.apply(queued, "ship")
    assert (shipped.state, shipped.status, shipped.state_name) == (
        MilestoneState.DONE, "shipped", "shipped"
    )  # fmt: skip


CUSTOM = Lifecycle.from_data(
    {
        "extends": "default",
        "name": "before_start",
        "states": [{"name": "blocked_before_start", "category": "blocked"}],
        "transitions": [
            {"trigger": "block", "sources": ["in_progress"], "dest": "blocked",
             "guards": ["needs_reason", "needs_owner", "owner_matches_reason"]},
            {"trigger": "block", "sources": ["planned"], "dest": "blocked_before_start",
             "guards": ["needs_reason", "needs_owner"]},
            {"trigger": "unblock", "sources": ["blocked"], "dest": "in_progress"},
            {"trigger": "unblock", "sources": ["blocked_before_start"], "dest": "planned"},
            {"trigger": "cancel", "sources": ["planned", "in_progress", "blocked",
                                              "blocked_before_start"], "dest": "cancelled"},
        ],
    }
)  # fmt: skip


def test_custom_blocked_states_keep_status_reason_and_owner() -> None:
    blocked = CUSTOM.apply(PLANNED, "block", reason="site_access", owner="noc")
    assert blocked.state is MilestoneState.BLOCKED
    assert blocked.status == "blocked_before_start"
    assert (blocked.owner, blocked.reason) == (Owner.NOC, "site_access")
    back = CUSTOM.apply(blocked, "unblock")
    assert (back.state, back.status, back.owner) == (MilestoneState.PLANNED, None, None)


def test_the_shared_machine_has_no_model() -> None:
    L.apply(PLANNED, "start")
    assert L.machine.models == []
    assert L.machine.get_triggers("planned") == ["start", "block", "cancel"]


def test_invalid_transition_pickles() -> None:
    with pytest.raises(InvalidTransition) as caught:
        L.apply(PLANNED, "complete")
    clone = pickle.loads(pickle.dumps(caught.value))
    assert str(clone) == str(caught.value)


details = st.fixed_dictionaries(
    {
        "reason": st.none() | st.sampled_from(DEFAULT_TAXONOMY.codes),
        "owner": st.none() | st.sampled_from(Owner),
        "override": st.booleans(),
    }
)


@given(lifecycles(), st.data())
def test_scalar_machine_and_reference_agree_on_custom_lifecycles(
    lifecycle: Lifecycle, data: st.DataObject
) -> None:
    state = data.draw(st.sampled_from(lifecycle.state_names))
    trigger = data.draw(st.sampled_from(lifecycle.trigger_names))
    given_details = data.draw(details)
    milestone = milestone_in(lifecycle, state, id="M-9")
    expected, kind = outcome(lifecycle, "trigger", state, trigger, **given_details)
    if kind is None:
        assert lifecycle.next_state(state, trigger, **given_details) == expected
        assert lifecycle.apply(milestone, trigger, **given_details).state_name == expected
        return
    for call in (
        lambda: lifecycle.next_state(state, trigger, item="M-9", **given_details),
        lambda: lifecycle.apply(milestone, trigger, **given_details),
    ):
        with pytest.raises(InvalidTransition) as caught:
            call()
        assert (caught.value.reason is None) == (kind == "illegal_trigger")
        assert caught.value.allowed == tuple(sorted(lifecycle.allowed_triggers(state)))


@given(milestones(), st.sampled_from(Trigger), details)
def test_apply_never_builds_an_inconsistent_milestone(
    milestone: Milestone, trigger: Trigger, given_details: dict[str, object]
) -> None:
    try:
        moved = L.apply(milestone, trigger, **given_details)  # type: ignore[arg-type]
    except InvalidTransition:
        return
    assert moved.state_name == L.next_state(milestone.state_name, trigger, **given_details)  # type: ignore[arg-type]
    assert (moved.state is MilestoneState.BLOCKED) == (moved.owner is not None)
    assert (moved.state is MilestoneState.BLOCKED) == (moved.reason is not None)
