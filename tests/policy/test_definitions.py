"""Policies as data: round trips, one-pass errors with paths, and the Python builders."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import DefinitionError
from servicedelivery.policy import (
    Action,
    Duration,
    Level,
    Policy,
    PolicySet,
    Target,
    all_of,
    any_of,
    field,
    measure,
)
from servicedelivery.policy._conditions import leaves
from tests.policy.strategies import policies

OPERATOR_RULE: dict[str, Any] = {
    "name": "provider_block",
    "when": {
        "all_of": [
            {"field": "owner", "eq": "provider"},
            {"measure": "blocked_for", "gt": "5 business days"},
        ]
    },
    "action": "escalate",
    "levels": [
        {"to": {"queue": "am_{provider}"}},
        {"to": {"queue": "director_{provider}"}, "after": "5 business days"},
    ],
    "playbook": "Chase the provider's account manager; then their director.",
}


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=3, unique=True).flatmap(
    lambda ids: st.tuples(*(policies(name=f"p{i}") for i in ids))
))  # fmt: skip
def test_a_policy_set_round_trips_through_data_and_json(drawn: tuple[Policy, ...]) -> None:
    policy_set = PolicySet(drawn)
    data = policy_set.to_data()
    assert PolicySet.from_data(data) == policy_set
    assert PolicySet.from_data(data).to_data() == data
    assert PolicySet.from_json(json.dumps(data)) == policy_set


def test_the_operators_rule_reads_and_writes_back_unchanged() -> None:
    policy = Policy.from_data(OPERATOR_RULE)
    assert policy.to_data() == OPERATOR_RULE
    assert policy.action is Action.ESCALATE
    assert policy.levels[1].after == Duration.business_days(5)
    built = Policy(
        name="provider_block",
        when=all_of(field("owner").eq("provider"), measure("blocked_for").gt("5 business days")),
        action=Action.ESCALATE,
        levels=(
            Level(to=Target.queue("am_{provider}")),
            Level(to=Target.queue("director_{provider}"), after=Duration.business_days(5)),
        ),
        playbook=OPERATOR_RULE["playbook"],
    )
    assert built == policy


def test_loading_reports_every_problem_with_its_path_in_one_pass() -> None:
    bad = {
        "policies": [
            OPERATOR_RULE,
            {**OPERATOR_RULE, "name": "second"},
            {
                "name": "third",
                "when": {
                    "all_of": [
                        {"field": "owner", "eq": "nobody"},
                        {"measure": "blocked_for", "gt": "five days"},
                    ]
                },
                "action": "route",
                "to": {"queue": "ops"},
                "hold": "-1h",
                "colour": "red",
            },
            {**OPERATOR_RULE},
        ]
    }
    with pytest.raises(DefinitionError) as caught:
        PolicySet.from_data(bad)
    paths = {problem.path for problem in caught.value.errors}
    assert "policies[2].when.all_of[0].eq" in paths
    assert "policies[2].when.all_of[1].gt" in paths
    assert "policies[2].hold" in paths
    assert "policies[2].colour" in paths
    assert "policies[3].name" in paths


def test_durations_read_every_written_form() -> None:
    assert Duration.parse("5d").ns == Duration.parse("P5D").ns == 5 * 86_400 * 10**9
    assert Duration.parse("1d12h").ns == Duration.parse("PT36H").ns
    assert Duration.parse({"working": "40h"}).to_data() == {"working": "40h"}
    assert Duration.parse("5 business days").days == 5
    with pytest.raises(Exception, match="years and months"):
        Duration.parse("P1M")


def test_all_of_and_any_of_each_keep_their_key_in_data_errors_and_paths() -> None:
    blocked = field("state").eq("blocked")
    old = measure("age").gt("2d")
    for build, key in ((all_of, "all_of"), (any_of, "any_of")):
        combined = build(blocked, old)
        assert combined.to_data() == {key: [blocked.to_data(), old.to_data()]}
        assert [path for path, _ in leaves(combined)] == [f"{key}[0]", f"{key}[1]"]
        with pytest.raises(DefinitionError) as bad:
            build(blocked, "old")  # type: ignore[arg-type]
        assert [(error.path, error.value) for error in bad.value.errors] == [(f"{key}[1]", "old")]
        with pytest.raises(DefinitionError) as empty:
            build()
        assert [error.path for error in empty.value.errors] == [key]
    assert all_of(blocked, old) != any_of(blocked, old)
    assert all_of(blocked, old) == all_of(blocked, old)
