from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import DefinitionError, UnmappedStatusError, ValidationError
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    OWNERS,
    STATES,
    MilestoneState,
    Owner,
    StatusMap,
    StatusTarget,
)

BPIC_LIKE = {
    "columns": ["concept:name", "lifecycle:transition"],
    "rules": [
        {"match": {"concept:name": "Queued"}, "state": "planned"},
        {
            "match": {"concept:name": "Accepted", "lifecycle:transition": "Wait - User"},
            "state": "blocked",
            "reason": "awaiting_customer_information",
        },
        {
            "match": {"concept:name": "Accepted", "lifecycle:transition": "Wait - Vendor"},
            "state": "blocked",
            "reason": "awaiting_provider",
        },
        {
            "match": {"concept:name": "Accepted", "lifecycle:transition": "Wait"},
            "state": "blocked",
            "reason": "awaiting_service_desk",
            "owner": "noc",
        },
        {"match": {"concept:name": "Accepted"}, "state": "in_progress"},
        {"match": {"concept:name": "Completed"}, "state": "done"},
    ],
}


@pytest.fixture
def bpic_map() -> StatusMap:
    return StatusMap.from_data(BPIC_LIKE)


def test_resolve_uses_the_first_matching_rule(bpic_map: StatusMap) -> None:
    assert bpic_map.resolve("Accepted", "In Progress") == StatusTarget(
        state=MilestoneState.IN_PROGRESS
    )
    wait_user = bpic_map.resolve("Accepted", "Wait - User")
    assert wait_user.state is MilestoneState.BLOCKED
    assert wait_user.owner is Owner.CUSTOMER  # defaulted from the reason
    assert bpic_map.resolve("Accepted", "Wait").owner is Owner.NOC  # explicit override
    assert bpic_map.resolve("Completed", "Closed").state is MilestoneState.DONE


def test_unmapped_statuses_are_all_listed_with_counts(bpic_map: StatusMap) -> None:
    columns = {
        "concept:name": ["Queued", "Unmatched", "Accepted", "Unmatched", "Odd"],
        "lifecycle:transition": ["Awaiting Assignment", "x", "Assigned", "x", "y"],
    }
    with pytest.raises(UnmappedStatusError) as info:
        bpic_map.apply(columns)
    assert info.value.statuses == ((("Unmatched", "x"), 2), (("Odd", "y"), 1))
    assert isinstance(info.value, ValidationError)


def test_fallback_covers_the_rest() -> None:
    status_map = StatusMap.from_data({**BPIC_LIKE, "fallback": {"state": "in_progress"}})
    mapped = status_map.apply({"concept:name": ["Odd"], "lifecycle:transition": ["y"]})
    assert mapped.state.tolist() == [STATES.index(MilestoneState.IN_PROGRESS)]
    assert mapped.rule.tolist() == [-1]


def test_apply_returns_canonical_codes(bpic_map: StatusMap) -> None:
    mapped = bpic_map.apply(
        {
            "concept:name": np.array(["Queued", "Accepted", "Accepted", "Completed"]),
            "lifecycle:transition": np.array(
                ["Awaiting Assignment", "Wait - Vendor", "Assigned", "Closed"]
            ),
        }
    )
    assert [STATES[c] for c in mapped.state] == [
        MilestoneState.PLANNED,
        MilestoneState.BLOCKED,
        MilestoneState.IN_PROGRESS,
        MilestoneState.DONE,
    ]
    assert mapped.owner.tolist() == [-1, OWNERS.index(Owner.PROVIDER), -1, -1]
    assert mapped.reason.tolist() == [-1, DEFAULT_TAXONOMY.codes.index("awaiting_provider"), -1, -1]
    assert mapped.rule.tolist() == [0, 2, 4, 5]
    assert mapped.state.dtype == np.int8


def test_missing_values_read_as_empty_string() -> None:
    status_map = StatusMap.from_data(
        {
            "columns": "status",
            "rules": [{"match": "", "state": "planned"}, {"match": "Done", "state": "done"}],
        }
    )
    mapped = status_map.apply({"status": np.array([None, float("nan"), "Done"], dtype=object)})
    assert mapped.state.tolist() == [0, 0, STATES.index(MilestoneState.DONE)]


def test_missing_column_and_unequal_lengths(bpic_map: StatusMap) -> None:
    with pytest.raises(ValidationError) as info:
        bpic_map.apply({"concept:name": ["Queued"]})
    assert [e.path for e in info.value.errors] == ["lifecycle:transition"]
    with pytest.raises(ValidationError):
        bpic_map.apply({"concept:name": ["Queued"], "lifecycle:transition": []})


def test_round_trip_through_json(bpic_map: StatusMap) -> None:
    again = StatusMap.from_json(json.dumps(bpic_map.to_data()))
    assert again == bpic_map
    assert again.to_data() == bpic_map.to_data()


def test_definition_errors_are_listed_with_paths() -> None:
    data = {
        "columns": ["status"],
        "rules": [
            {"match": "Wait", "state": "blocked"},
            {"match": {"sub": "x"}, "state": "done"},
            {"match": "New", "state": "waiting"},
            {"match": "Active", "state": "in_progress", "reason": "site_access"},
            {"match": "Hold", "state": "blocked", "reason": "gremlins"},
            {"match": 5, "state": "done"},
        ],
        "fallback": {"state": "blocked", "owner": "landlord", "reason": "site_access"},
        "colour": "red",
    }
    with pytest.raises(DefinitionError) as info:
        StatusMap.from_data(data)
    paths = [e.path for e in info.value.errors]
    assert paths == [
        "colour",
        "rules[0].reason",
        "rules[0].owner",
        "rules[1].match.sub",
        "rules[2].state",
        "rules[3].reason",
        "rules[4].reason",
        "rules[5].match",
        "fallback.owner",
    ]


def test_a_rule_that_can_never_apply_is_an_error() -> None:
    with pytest.raises(DefinitionError) as info:
        StatusMap.from_data(
            {
                "columns": ["a", "b"],
                "rules": [
                    {"match": {"a": "Accepted"}, "state": "in_progress"},
                    {
                        "match": {"a": "Accepted", "b": "Wait"},
                        "state": "blocked",
                        "reason": "site_access",
                    },
                ],
            }
        )
    [error] = info.value.errors
    assert error.path == "rules[1].match"
    assert "covered by rules[0]" in error.expected


def test_custom_taxonomy_reasons() -> None:
    from servicedelivery.model import BlockedReason

    taxonomy = DEFAULT_TAXONOMY.extended(
        BlockedReason(code="landlord_consent", label="Landlord consent", owner=Owner.CUSTOMER)
    )
    status_map = StatusMap.from_data(
        {
            "columns": "s",
            "rules": [{"match": "L", "state": "blocked", "reason": "landlord_consent"}],
        },
        taxonomy=taxonomy,
    )
    mapped = status_map.apply({"s": ["L"]})
    assert mapped.reason.tolist() == [taxonomy.codes.index("landlord_consent")]
    with pytest.raises(DefinitionError):
        StatusMap.from_data(
            {
                "columns": "s",
                "rules": [{"match": "L", "state": "blocked", "reason": "landlord_consent"}],
            }
        )


VALUES = st.sampled_from(["", "Queued", "Accepted", "Completed", "Wait", "Wait - User", "x"])


@given(st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=60))
def test_apply_agrees_with_resolve_row_by_row(rows: list[tuple[str, str]]) -> None:
    status_map = StatusMap.from_data({**BPIC_LIKE, "fallback": {"state": "cancelled"}})
    mapped = status_map.apply(
        {"concept:name": [a for a, _ in rows], "lifecycle:transition": [b for _, b in rows]}
    )
    for index, (a, b) in enumerate(rows):
        target = status_map.resolve(a, b)
        assert STATES[mapped.state[index]] is target.state
        assert (OWNERS[mapped.owner[index]] if mapped.owner[index] >= 0 else None) is target.owner
        reason = mapped.reason[index]
        assert (DEFAULT_TAXONOMY.codes[reason] if reason >= 0 else None) == target.reason
