from __future__ import annotations

import json

import pytest

from servicedelivery.errors import DefinitionError
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    BlockedReason,
    Owner,
    StandardReason,
    Taxonomy,
)


def test_default_taxonomy_covers_every_standard_reason() -> None:
    assert DEFAULT_TAXONOMY.codes == tuple(reason.value for reason in StandardReason)
    for reason in DEFAULT_TAXONOMY:
        assert reason.label
        assert reason.description


@pytest.mark.parametrize(
    ("code", "owner"),
    [
        (StandardReason.SITE_ACCESS, Owner.CUSTOMER),
        (StandardReason.CUSTOMER_APPROVAL, Owner.CUSTOMER),
        (StandardReason.PROVIDER_CAPACITY, Owner.PROVIDER),
        (StandardReason.NOC_CONFIGURATION, Owner.NOC),
        (StandardReason.TEST_FAILURE, Owner.NOC),
        (StandardReason.AWAITING_SERVICE_DESK, Owner.SERVICE_DESK),
    ],
)
def test_default_owners(code: StandardReason, owner: Owner) -> None:
    assert DEFAULT_TAXONOMY.require(code).owner is owner


def test_every_owner_has_reasons() -> None:
    assert {reason.owner for reason in DEFAULT_TAXONOMY} == set(Owner)


def test_round_trip_through_data() -> None:
    data = json.loads(json.dumps(DEFAULT_TAXONOMY.to_data()))
    assert Taxonomy.from_data(data) == DEFAULT_TAXONOMY


def test_organization_extends_the_default() -> None:
    taxonomy = Taxonomy.from_json(
        json.dumps(
            {
                "extends": "default",
                "reasons": [
                    {"code": "landlord_consent", "label": "Landlord consent", "owner": "customer"},
                    {"code": "site_access", "label": "Site access (escort)", "owner": "provider"},
                ],
            }
        )
    )
    assert taxonomy.codes[-1] == "landlord_consent"
    assert len(taxonomy) == len(DEFAULT_TAXONOMY) + 1
    assert taxonomy.require("site_access").owner is Owner.PROVIDER
    assert "landlord_consent" in taxonomy
    assert "landlord_consent" not in DEFAULT_TAXONOMY


def test_bad_taxonomy_data_lists_every_problem() -> None:
    data = {
        "reasons": [
            {"code": "Site Access", "label": "x", "owner": "customer"},
            {"code": "ok", "label": "", "owner": "landlord"},
            {"code": "ok", "label": "again", "owner": "noc", "colour": "red"},
            {"label": "no code", "owner": "noc"},
            "not a mapping",
        ],
        "extends": "other",
    }
    with pytest.raises(DefinitionError) as info:
        Taxonomy.from_data(data)
    paths = [e.path for e in info.value.errors]
    assert paths == [
        "extends",
        "reasons[0].code",
        "reasons[1].label",
        "reasons[1].owner",
        "reasons[2].colour",
        "reasons[3].code",
        "reasons[4]",
    ]


def test_duplicate_codes_and_empty_labels_are_definition_errors() -> None:
    with pytest.raises(DefinitionError) as info:
        Taxonomy.from_data(
            {
                "reasons": [
                    {"code": "a", "label": "A", "owner": "noc"},
                    {"code": "a", "label": "A again", "owner": "noc"},
                ]
            }
        )
    assert [e.path for e in info.value.errors] == ["reasons[1].code"]
    with pytest.raises(DefinitionError) as info:
        Taxonomy.from_data({"reasons": [{"code": "a", "label": "  ", "owner": "noc"}]})
    assert [e.path for e in info.value.errors] == ["reasons[0].label"]


def test_empty_and_malformed_documents() -> None:
    with pytest.raises(DefinitionError):
        Taxonomy.from_data({"reasons": []})
    with pytest.raises(DefinitionError):
        Taxonomy.from_data(["a list"])
    with pytest.raises(DefinitionError) as info:
        Taxonomy.from_json("{not json")
    assert "a JSON document" in str(info.value)


def test_require_names_the_known_codes() -> None:
    with pytest.raises(DefinitionError.__mro__[1]) as info:  # ValidationError
        DEFAULT_TAXONOMY.require("gremlins", path="milestones[3].reason")
    [error] = info.value.errors
    assert error.path == "milestones[3].reason"
    assert "site_access" in error.expected


def test_extended_replaces_in_place() -> None:
    new = BlockedReason(code="provider_fault", label="Carrier fault", owner=Owner.PROVIDER)
    taxonomy = DEFAULT_TAXONOMY.extended(new)
    assert taxonomy.codes == DEFAULT_TAXONOMY.codes
    assert taxonomy.require("provider_fault").label == "Carrier fault"
