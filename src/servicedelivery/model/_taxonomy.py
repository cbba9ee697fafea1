"""Standardized blocked reasons: each a code, a label and the owner who must act.

A reason is data, not an enum member, because every organization names some of its own. The standard
codes are also listed in :class:`StandardReason` so that code written against the default taxonomy
gets completion and typo checking.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum, unique
from typing import Any

import attrs

from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError
from servicedelivery.model._convert import structure
from servicedelivery.model._definitions import read_json
from servicedelivery.model._enums import Owner
from servicedelivery.model._validation import Validated, checked, label, member_of, slug, text

__all__ = ["DEFAULT_TAXONOMY", "BlockedReason", "StandardReason", "Taxonomy"]


@attrs.frozen
class BlockedReason(Validated):
    """Why a milestone is blocked.

    Attributes:
        code: The stable code recorded in events, such as ``"site_access"``.
        label: A short human label, such as ``"Site access"``.
        owner: Who must act by default; a block may name another owner explicitly.
        description: What the reason covers, to help people pick the right one.
    """

    code: str = checked(slug)
    label: str = checked(label)
    owner: Owner = checked(member_of(Owner))
    description: str = checked(text, default="")


def _as_reasons(value: Iterable[BlockedReason]) -> tuple[BlockedReason, ...]:
    return tuple(value)


@unique
class StandardReason(StrEnum):
    """The codes of the default taxonomy, for code written against it."""

    SITE_ACCESS = "site_access"
    CUSTOMER_READINESS = "customer_readiness"
    AWAITING_CUSTOMER_INFORMATION = "awaiting_customer_information"
    CUSTOMER_APPROVAL = "customer_approval"
    CUSTOMER_EQUIPMENT = "customer_equipment"
    PERMITS_AND_WAYLEAVES = "permits_and_wayleaves"
    PROVIDER_INSTALLATION = "provider_installation"
    PROVIDER_CAPACITY = "provider_capacity"
    PROVIDER_FAULT = "provider_fault"
    HARDWARE_DELIVERY = "hardware_delivery"
    AWAITING_PROVIDER = "awaiting_provider"
    NOC_CONFIGURATION = "noc_configuration"
    TEST_FAILURE = "test_failure"
    CHANGE_WINDOW = "change_window"
    AWAITING_SERVICE_DESK = "awaiting_service_desk"
    AWAITING_INTERNAL_APPROVAL = "awaiting_internal_approval"


@attrs.frozen
class Taxonomy:
    """A set of blocked reasons, looked up by code.

    Build one from data with :meth:`from_data`, or extend the default with :meth:`extended`.

    Attributes:
        reasons: The reasons, in the order they are presented to people.
    """

    reasons: tuple[BlockedReason, ...] = attrs.field(converter=_as_reasons)
    _by_code: Mapping[str, BlockedReason] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # Typed as objects: the constructor may have been handed anything.
        given: tuple[object, ...] = self.reasons
        errors = [
            FieldError(f"reasons[{index}]", reason, "a BlockedReason")
            for index, reason in enumerate(given)
            if not isinstance(reason, BlockedReason)
        ]
        seen: dict[str, int] = {}
        for index, reason in enumerate(given):
            if not isinstance(reason, BlockedReason):
                continue
            if reason.code in seen:
                errors.append(
                    FieldError(
                        f"reasons[{index}].code",
                        reason.code,
                        f"a code not already used by reasons[{seen[reason.code]}]",
                    )
                )
            seen.setdefault(reason.code, index)
        if not self.reasons:
            errors.append(FieldError("reasons", self.reasons, "at least one reason"))
        if errors:
            raise DefinitionError(errors, title="invalid taxonomy")
        object.__setattr__(self, "_by_code", {reason.code: reason for reason in self.reasons})

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[BlockedReason]:
        return iter(self.reasons)

    def __len__(self) -> int:
        return len(self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, in order."""
        return tuple(self._by_code)

    def get(self, code: str) -> BlockedReason | None:
        """The reason with this code, or ``None``."""
        return self._by_code.get(code)

    def require(self, code: str, *, path: str = "reason") -> BlockedReason:
        """The reason with this code.

        Raises:
            ValidationError: No reason has this code; the message lists the known codes.
        """
        reason = self._by_code.get(code)
        if reason is None:
            raise ValidationError.single(
                path, code, f"a reason code of the taxonomy ({self._known()})"
            )
        return reason

    def _known(self) -> str:
        return ", ".join(self._by_code)

    def extended(self, *reasons: BlockedReason) -> Taxonomy:
        """A taxonomy with these reasons added; a reason with an existing code replaces it."""
        replaced = {reason.code: reason for reason in reasons}
        kept = [replaced.pop(reason.code, reason) for reason in self.reasons]
        return Taxonomy((*kept, *replaced.values()))

    @classmethod
    def from_data(cls, data: object) -> Taxonomy:
        """Load a taxonomy from plain data (as parsed from JSON).

        The data is ``{"reasons": [{"code", "label", "owner", "description"?}, ...]}``, with an optional
        ``"extends": "default"`` to add to (or override codes of) the default taxonomy.

        Raises:
            DefinitionError: Listing every problem with its path.
        """
        if not isinstance(data, Mapping):
            raise DefinitionError.single("", data, "a mapping with a 'reasons' list")
        errors: list[FieldError] = [
            FieldError(key, data[key], "no such key; expected 'reasons' and optionally 'extends'")
            for key in data
            if key not in ("reasons", "extends")
        ]
        extends = data.get("extends")
        if extends not in (None, "default"):
            errors.append(FieldError("extends", extends, "'default' or no 'extends'"))
        raw = data.get("reasons", MISSING)
        if not isinstance(raw, list):
            errors.append(FieldError("reasons", raw, "a list of reasons"))
            raw = []
        reasons = []
        for index, item in enumerate(raw):
            try:
                reasons.append(_reason_from_data(item))
            except ValidationError as error:
                errors.extend(error.with_prefix(f"reasons[{index}]").errors)
        if errors:
            raise DefinitionError(errors, title="invalid taxonomy")
        if extends == "default":
            return DEFAULT_TAXONOMY.extended(*reasons)
        return cls(reasons)

    @classmethod
    def from_json(cls, text: str) -> Taxonomy:
        """Load a taxonomy from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text))

    def to_data(self) -> dict[str, Any]:
        """The taxonomy as plain data that :meth:`from_data` reads back unchanged."""
        return {
            "reasons": [
                {
                    "code": reason.code,
                    "label": reason.label,
                    "owner": reason.owner.value,
                    "description": reason.description,
                }
                for reason in self.reasons
            ]
        }


def _reason_from_data(item: object) -> BlockedReason:
    return structure(item, BlockedReason)


def _r(code: StandardReason, label: str, owner: Owner, description: str) -> BlockedReason:
    return BlockedReason(code=code.value, label=label, owner=owner, description=description)


DEFAULT_TAXONOMY = Taxonomy(
    (
        _r(
            StandardReason.SITE_ACCESS,
            "Site access",
            Owner.CUSTOMER,
            "Engineers cannot get into the site: keys, escorts, access windows, landlord consent.",
        ),
        _r(
            StandardReason.CUSTOMER_READINESS,
            "Customer readiness",
            Owner.CUSTOMER,
            "The site is not ready: power, rack space, cabling or room works outstanding.",
        ),
        _r(
            StandardReason.AWAITING_CUSTOMER_INFORMATION,
            "Awaiting customer information",
            Owner.CUSTOMER,
            "Contact details, addresses, IP plans or other data requested from the customer.",
        ),
        _r(
            StandardReason.CUSTOMER_APPROVAL,
            "Customer approval",
            Owner.CUSTOMER,
            "A quote, design, change or acceptance waits for the customer's sign-off.",
        ),
        _r(
            StandardReason.CUSTOMER_EQUIPMENT,
            "Customer equipment",
            Owner.CUSTOMER,
            "Customer-owned equipment is missing, faulty or not configured.",
        ),
        _r(
            StandardReason.PERMITS_AND_WAYLEAVES,
            "Permits and wayleaves",
            Owner.PROVIDER,
            "Street works permits, wayleaves or civil works the provider must obtain.",
        ),
        _r(
            StandardReason.PROVIDER_INSTALLATION,
            "Provider installation",
            Owner.PROVIDER,
            "The provider has not yet installed the access circuit or equipment.",
        ),
        _r(
            StandardReason.PROVIDER_CAPACITY,
            "Provider capacity",
            Owner.PROVIDER,
            "No capacity at the provider: ports, fibre, spectrum or field engineers.",
        ),
        _r(
            StandardReason.PROVIDER_FAULT,
            "Provider fault",
            Owner.PROVIDER,
            "A fault on the provider's side prevents progress.",
        ),
        _r(
            StandardReason.HARDWARE_DELIVERY,
            "Hardware delivery",
            Owner.PROVIDER,
            "Equipment ordered from the provider or vendor has not arrived.",
        ),
        _r(
            StandardReason.AWAITING_PROVIDER,
            "Awaiting provider",
            Owner.PROVIDER,
            "Waiting on the provider or vendor for a reason not recorded more precisely.",
        ),
        _r(
            StandardReason.NOC_CONFIGURATION,
            "NOC configuration",
            Owner.NOC,
            "Configuration or provisioning by the network operations centre is outstanding.",
        ),
        _r(
            StandardReason.TEST_FAILURE,
            "Test failure",
            Owner.NOC,
            "Acceptance or end-to-end tests failed and must be investigated.",
        ),
        _r(
            StandardReason.CHANGE_WINDOW,
            "Change window",
            Owner.SERVICE_DESK,
            "The work waits for an approved change or maintenance window.",
        ),
        _r(
            StandardReason.AWAITING_SERVICE_DESK,
            "Awaiting service desk",
            Owner.SERVICE_DESK,
            "The service desk must act: triage, assignment or coordination.",
        ),
        _r(
            StandardReason.AWAITING_INTERNAL_APPROVAL,
            "Awaiting internal approval",
            Owner.SERVICE_DESK,
            "An internal commercial, technical or security approval is pending.",
        ),
    )
)
"""The standard taxonomy: every :class:`StandardReason`, with its label and default owner."""
