"""The compiled table against the slow reference, on random histories and by hand."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import OptionalDependencyError, ValidationError
from servicedelivery.lifecycle import (
    DEFAULT_LIFECYCLE,
    HistoryCheck,
    Lifecycle,
    ViolationKind,
    _kernel,
)
from servicedelivery.testing import histories, lifecycles
from tests.lifecycle import reference

L = DEFAULT_LIFECYCLE
T = L.table


def assert_matches_reference(
    lifecycle: Lifecycle,
    check: HistoryCheck,
    columns: dict[str, Any],
    *,
    by: str = "trigger",
    initial: Any = None,
) -> None:
    expected = reference.replay(lifecycle, columns, by=by, initial=initial)
    names = lifecycle.state_names
    assert [names[s] for s in check.states_before] == expected["before"]
    assert [names[s] for s in check.states_after] == expected["after"]
    got = [
        (int(p), ViolationKind(k).label) for p, k in zip(check.positions, check.kinds, strict=True)
    ]
    assert got == expected["violations"]
    assert check.items.tolist() == list(expected["final"])
    assert [names[s] for s in check.final_states] == list(expected["final"].values())
    assert check.ok == (not expected["violations"])
    symbols = columns[f"{by}s"]
    assert check.attempted.tolist() == [int(symbols[p]) for p in check.positions]
    assert check.violating_items.tolist() == [int(columns["items"][p]) for p in check.positions]


def _subset(columns: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    return {k: v for k, v in columns.items() if k in keep or k in ("items", "triggers", "states")}


@given(histories(), st.sets(st.sampled_from(["times", "owners", "reasons", "overrides"])))
def test_table_matches_the_reference_on_default_histories(
    columns: dict[str, Any], keep: set[str]
) -> None:
    columns = _subset(columns, keep)
    assert_matches_reference(L, T.validate(**columns), columns)


@given(histories(by="state"), st.sets(st.sampled_from(["times", "owners", "reasons"])))
def test_state_histories_match_the_reference(columns: dict[str, Any], keep: set[str]) -> None:
    columns = _subset(columns, keep)
    assert_matches_reference(L, T.validate_states(**columns), columns, by="state")


@given(st.data())
def test_table_matches_the_reference_on_custom_lifecycles(data: st.DataObject) -> None:
    lifecycle = data.draw(lifecycles())
    by = data.draw(st.sampled_from(["trigger", "state"]))
    columns = data.draw(histories(lifecycle=lifecycle, by=by))
    table = lifecycle.table
    check = table.validate(**columns) if by == "trigger" else table.validate_states(**columns)
    assert_matches_reference(lifecycle, check, columns, by=by)


@given(histories(max_events=120, max_items=3), st.integers(1, 5))
def test_long_histories_cut_into_blocks_give_the_same_states(
    columns: dict[str, Any], block: int
) -> None:
    whole = T.validate(**columns)
    saved = _kernel._BLOCK
    _kernel._BLOCK = block
    try:
        cut = T.validate(**columns)
    finally:
        _kernel._BLOCK = saved
    assert_matches_reference(L, cut, columns)
    assert cut.states_before.tolist() == whole.states_before.tolist()
    assert cut.final_states.tolist() == whole.final_states.tolist()


def test_one_very_long_history_is_cut_into_blocks() -> None:
    rng = np.random.default_rng(5)
    n = 5_000  # longer than _BLOCK: blocks of about sqrt(n) events
    columns = {
        "items": np.r_[np.zeros(n, dtype=np.int64), np.ones(7, dtype=np.int64)],
        "triggers": rng.integers(0, len(L.trigger_names), n + 7),
    }
    assert_matches_reference(L, T.validate(**columns), columns)


@given(histories(), st.data())
def test_initial_states_per_item_per_event_or_named(
    columns: dict[str, Any], data: st.DataObject
) -> None:
    n = len(columns["items"])
    per_event = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    names = [L.state_names[s] for s in per_event]
    # Each item starts in the value at its first event in replay order.
    order = sorted(range(n), key=lambda i: (columns["items"][i], columns["times"][i], i))
    first: dict[int, str] = {}
    for i in order:
        first.setdefault(int(columns["items"][i]), names[i])
    starts = [first[int(item)] for item in columns["items"]]
    check = T.validate(**columns, initial=per_event)
    assert_matches_reference(L, check, columns, initial=starts)
    assert_matches_reference(
        L, T.validate(**columns, initial=np.array(names)), columns, initial=starts
    )
    state = data.draw(st.sampled_from(L.state_names))
    assert_matches_reference(L, T.validate(**columns, initial=state), columns, initial=state)
    code = L.state_code(state)
    assert_matches_reference(L, T.validate(**columns, initial=code), columns, initial=state)


@given(histories(times=False), st.integers(0, 60))
def test_continuing_from_a_check_equals_one_pass(columns: dict[str, Any], cut: int) -> None:
    head = {k: v[:cut] for k, v in columns.items()}
    tail = {k: v[cut:] for k, v in columns.items()}
    whole = T.validate(**columns)
    first = T.validate(**head)
    second = T.validate(**tail, initial=first)
    assert second.states_after.tolist() == whole.states_after[cut:].tolist()
    assert (second.positions + min(cut, len(columns["items"]))).tolist() == [
        p for p in whole.positions.tolist() if p >= cut
    ]


def test_names_string_ids_and_datetimes_are_accepted() -> None:
    check = T.validate(
        np.array(["M-2", "M-1", "M-2", "M-1"], dtype=object),
        ["start", "start", "block", "complete"],
        times=np.array(
            ["2024-03-01T10:00", "2024-03-01T09:00", "2024-03-01T11:00", "2024-03-01T08:00"],
            dtype="datetime64[m]",
        ),
        owners=[None, None, "customer", None],
        reasons=[None, None, "site_access", None],
    )
    # M-1 completes (08:00) before it starts (09:00): refused, then started.
    assert check.items.tolist() == ["M-1", "M-2"]
    assert [L.state_names[s] for s in check.final_states] == ["in_progress", "blocked"]
    assert check.to_records() == [
        {"position": 3, "item": "M-1", "kind": "illegal_trigger", "state": "planned",
         "trigger": "complete"}
    ]  # fmt: skip


def test_guard_violations_by_hand() -> None:
    codes = {name: L.trigger_code(name) for name in L.trigger_names}
    check = T.validate(
        items=[1, 1, 2, 2, 3, 3, 4],
        triggers=[codes[t] for t in ["start", "block", "start", "block", "start", "block", "block"]],
        # site_access is 0 (customer); provider_fault is 8 (provider); owners: 1 is customer.
        reasons=[-1, -1, -1, 0, -1, 8, 0],
        owners=[-1, 1, -1, -1, -1, 1, 1],
        overrides=[False, False, False, False, False, False, True],
    )  # fmt: skip
    assert check.positions.tolist() == [1, 3, 5]
    assert [ViolationKind(k) for k in check.kinds] == [
        ViolationKind.MISSING_REASON,
        ViolationKind.MISSING_OWNER,
        ViolationKind.OWNER_MISMATCH,
    ]
    assert [L.state_names[s] for s in check.final_states] == [
        "in_progress", "in_progress", "in_progress", "blocked"
    ]  # fmt: skip
    assert check.counts() == {
        ViolationKind.MISSING_REASON: 1,
        ViolationKind.MISSING_OWNER: 1,
        ViolationKind.OWNER_MISMATCH: 1,
    }
    assert check.final_state_counts() == {"in_progress": 3, "blocked": 1}


def test_summary_records_and_pandas() -> None:
    check = T.validate([7, 7, 8], ["complete", "start", "reopen"])
    assert check.summary() == (
        "lifecycle 'default': 3 events of 2 items by trigger; 2 violations (illegal_trigger 2)\n"
        "  event 0, item 7: illegal_trigger ('complete' from 'planned')\n"
        "  event 2, item 8: illegal_trigger ('reopen' from 'planned')"
    )
    assert repr(check).startswith("<HistoryCheck lifecycle 'default': 3 events")
    frame = check.to_pandas()
    assert frame["position"].tolist() == [0, 2]
    assert frame["item"].tolist() == [7, 8]
    assert frame["kind"].tolist() == ["illegal_trigger", "illegal_trigger"]
    assert frame["state"].tolist() == ["planned", "planned"]
    assert frame["trigger"].tolist() == ["complete", "reopen"]
    assert isinstance(frame["kind"].dtype, pd.CategoricalDtype)
    clean = T.validate_states([1, 1], ["in_progress", "done"])
    assert clean.ok
    assert clean.summary() == "lifecycle 'default': 2 events of 1 items by state; no violations"
    wrong = T.validate_states([1], ["done"])
    assert wrong.to_records() == [
        {"position": 0, "item": 1, "kind": "illegal_target", "state": "planned", "target": "done"}
    ]
    assert wrong.to_pandas().columns.tolist() == ["position", "item", "kind", "state", "target"]


def test_to_pandas_without_pandas_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    check = T.validate([1], ["complete"])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(OptionalDependencyError) as caught:
        check.to_pandas()
    assert (caught.value.package, caught.value.extra) == ("pandas", "pandas")
    assert isinstance(caught.value, ImportError)


def test_empty_history() -> None:
    check = T.validate(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert check.ok
    assert check.events == 0
    assert len(check.items) == 0
    assert check.to_pandas().empty


def test_destinations_table() -> None:
    for (state, trigger), dest in reference.DEFAULT_MOVES.items():
        assert T.destinations[L.trigger_code(trigger), L.state_code(state)] == L.state_code(dest)
    assert int((T.destinations >= 0).sum()) == len(reference.DEFAULT_MOVES)


def test_bad_columns_are_all_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        T.validate(
            items=[1, 2, 3],
            triggers=[0, 9, -1],
            times=[1.5, 2.0, 3.0],
            owners=[0, 0],
            reasons=["site_access", "moon", "sun"],
            overrides=[1, 0, 1],
            initial="asleep",
        )
    paths = [error.path for error in caught.value.errors]
    assert paths == ["triggers[1]", "times", "owners", "reasons", "overrides", "initial"]
    message = str(caught.value)
    assert "2 bad in all" in message
    assert "'moon', 'sun'" in message
    assert "3 values, one per event" in message


def test_malformed_items_and_initial() -> None:
    with pytest.raises(ValidationError, match="one-dimensional"):
        T.validate([[1, 2]], [0, 0])
    with pytest.raises(ValidationError, match="integer item codes or string ids"):
        T.validate([1.0, 2.0], [0, 0])
    with pytest.raises(ValidationError, match="NaT"):
        T.validate([1, 2], [0, 0], times=np.array(["NaT", "2024-01-01"], dtype="datetime64[s]"))
    other = Lifecycle.from_data({**L.to_data(), "name": "other"})
    previous = other.table.validate([1], [0])
    with pytest.raises(ValidationError, match="made with lifecycle 'default'"):
        T.validate([1], [0], initial=previous)
    strings = T.validate(["a"], [0])
    with pytest.raises(ValidationError, match="same kind of items"):
        T.validate([1], [0], initial=strings)
    with pytest.raises(ValidationError):
        T.validate([1], [0], overrides=np.array([1]))
    with pytest.raises(ValidationError, match="names"):
        T.validate([1], np.array([object()], dtype=object))


@pytest.mark.parametrize(
    "items",
    [
        [2**62, -(2**62), 5, 2**62, 5, -(2**62)],  # too wide to pack with positions
        [-3, 10**12, -3, 7, 10**12, 7],  # sparse codes
        [4, 2, 4, 0, 2, 4],  # dense codes from zero
        [-7, -9, -7, -8, -9, -7],  # dense negative codes
        [1, 1, 2, 2, 3, 3],  # already grouped
    ],
)
def test_every_kind_of_item_codes(items: list[int]) -> None:
    columns = {
        "items": np.array(items, dtype=np.int64),
        "triggers": np.array([0, 0, 4, 1, 5, 6]),
        "times": np.array([3, 2, 1, 0, 2, 1]),
    }
    assert_matches_reference(L, T.validate(**columns), columns)


def test_unsigned_item_codes_beyond_int64() -> None:
    items = np.array([2**64 - 1, 3, 2**64 - 1], dtype=np.uint64)
    check = T.validate(items, ["start", "start", "complete"])
    assert check.items.tolist() == [3, 2**64 - 1]
    assert [L.state_names[s] for s in check.final_states] == ["in_progress", "done"]
    assert check.ok
