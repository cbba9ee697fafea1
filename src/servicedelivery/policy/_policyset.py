"""A set of policies, read from one document: ``{"policies": [...]}``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError
from servicedelivery.model._definitions import read_json
from servicedelivery.policy._policy import Policy, policy_from_data
from servicedelivery.policy._spike_policy import SpikePolicy, spike_policy_from_data
from servicedelivery.policy._targets import unknown

__all__ = ["AnyPolicy", "PolicySet", "as_policy_set"]

AnyPolicy = Policy | SpikePolicy
"""An item policy or a spike policy."""


def _as_policies(value: object) -> object:
    if isinstance(value, (Policy, SpikePolicy)):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, (str, Mapping)):
        return tuple(value)
    return value


@attrs.frozen
class PolicySet:
    """Policies evaluated together; their names are unique.

    Attributes:
        policies: Item policies and spike policies, in order.
    """

    policies: tuple[AnyPolicy, ...] = attrs.field(converter=_as_policies)

    def __attrs_post_init__(self) -> None:
        given: object = self.policies
        if not isinstance(given, tuple):
            raise DefinitionError.single("policies", given, "a sequence of policies")
        errors = [
            FieldError(f"policies[{index}]", policy, "a Policy or a SpikePolicy")
            for index, policy in enumerate(given)
            if not isinstance(policy, (Policy, SpikePolicy))
        ]
        errors.extend(_repeated_names([getattr(policy, "name", None) for policy in given]))
        if errors:
            raise DefinitionError(errors, title="invalid policy set")

    def __iter__(self) -> Iterator[AnyPolicy]:
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def __getitem__(self, name: str) -> AnyPolicy:
        """The policy with this name.

        Raises:
            ValidationError: No policy has it.
        """
        for policy in self.policies:
            if policy.name == name:
                return policy
        known = ", ".join(repr(policy.name) for policy in self.policies)
        raise ValidationError.single("name", name, f"the name of a policy of the set ({known})")

    @property
    def names(self) -> tuple[str, ...]:
        """Every policy's name, in order."""
        return tuple(policy.name for policy in self.policies)

    @property
    def item_policies(self) -> tuple[Policy, ...]:
        """The item policies, in order."""
        return tuple(p for p in self.policies if isinstance(p, Policy))

    @property
    def spike_policies(self) -> tuple[SpikePolicy, ...]:
        """The spike policies, in order."""
        return tuple(p for p in self.policies if isinstance(p, SpikePolicy))

    def to_data(self) -> dict[str, Any]:
        """The set as plain data that :meth:`from_data` reads back unchanged."""
        return {"policies": [policy.to_data() for policy in self.policies]}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The set as a JSON document."""
        return json.dumps(self.to_data(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_data(cls, data: object) -> PolicySet:
        """Read a policy set: ``{"policies": [policy, ...]}``.

        Item policies are read as :meth:`Policy.from_data` reads them; a policy with
        ``"kind": "spike"`` is a :class:`SpikePolicy`.

        Raises:
            DefinitionError: Listing every problem with its path, such as
                ``policies[2].when.all_of[1].gt``.
        """
        if not isinstance(data, Mapping):
            raise DefinitionError.single("", data, "a mapping with a 'policies' list")
        errors = unknown(data, ("policies",), "")
        raw = data.get("policies", MISSING)
        if not isinstance(raw, list):
            errors.append(FieldError("policies", raw, "a list of policies"))
            raw = []
        policies = [
            read_policy(item, errors, f"policies[{index}]") for index, item in enumerate(raw)
        ]
        if not errors:
            try:
                return cls(tuple(policies))
            except ValidationError as error:
                errors.extend(error.errors)
        else:  # the names are checked across policies even when some policy has problems
            errors.extend(
                _repeated_names([item.get("name") if isinstance(item, Mapping) else None
                                 for item in raw])
            )  # fmt: skip
        raise DefinitionError(errors, title="invalid policy set")

    @classmethod
    def from_json(cls, text: str) -> PolicySet:
        """Read a policy set from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text))


def _repeated_names(names: list[object]) -> list[FieldError]:
    """A problem for every policy whose name an earlier policy already has."""
    seen: dict[str, int] = {}
    errors = []
    for index, name in enumerate(names):
        if not isinstance(name, str):
            continue
        if name in seen:
            errors.append(
                FieldError(
                    f"policies[{index}].name",
                    name,
                    f"a name not already used by policies[{seen[name]}]",
                )
            )
        seen.setdefault(name, index)
    return errors


def read_policy(data: object, errors: list[FieldError], path: str) -> AnyPolicy | None:
    """An item or spike policy from data; problems go to ``errors`` under ``path``."""
    if isinstance(data, Mapping) and "kind" in data:
        kind = data["kind"]
        if kind == "spike":
            return spike_policy_from_data(data, errors, path)
        errors.append(FieldError(f"{path}.kind", kind, "'spike' (item policies have no kind)"))
        return None
    return policy_from_data(data, errors, path)


def as_policy_set(policies: object) -> PolicySet:
    """A :class:`PolicySet` from a set, one policy, or a sequence of policies.

    Raises:
        DefinitionError: Anything else, or repeated names.
    """
    if isinstance(policies, PolicySet):
        return policies
    return PolicySet(policies)
