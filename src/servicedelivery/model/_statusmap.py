"""Status maps: what a source system's statuses mean in the canonical vocabulary.

Every ticketing tool has its own statuses, often spread over two columns (BPIC 2013 has
``concept:name`` = ``Accepted`` with ``lifecycle:transition`` = ``Wait - User``). A status map declares,
as data, which canonical state, owner and reason each combination means. The map is applied to whole
columns at once; a value it does not cover is an error that lists every uncovered value, unless the
map declares a fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import (
    MISSING,
    DefinitionError,
    FieldError,
    UnmappedStatusError,
    ValidationError,
)
from servicedelivery.model._definitions import read_json
from servicedelivery.model._enums import OWNERS, STATES, MilestoneState, Owner
from servicedelivery.model._taxonomy import DEFAULT_TAXONOMY, Taxonomy
from servicedelivery.model._validation import (
    Validated,
    checked,
    identifier,
    instance_of,
    member_of,
    optional,
    slug,
    text,
    to_tuple,
    tuple_of,
)

__all__ = ["MappedStatuses", "StatusMap", "StatusRule", "StatusTarget"]


@attrs.frozen
class StatusTarget(Validated):
    """The canonical meaning of a source status.

    Attributes:
        state: The canonical state.
        owner: Who must act, for a blocked state (defaults to the reason's owner when loaded).
        reason: The blocked reason's code, for a blocked state.
    """

    state: MilestoneState = checked(member_of(MilestoneState))
    owner: Owner | None = checked(optional(member_of(Owner)), default=None)
    reason: str | None = checked(optional(slug), default=None)

    def _check_together(self) -> Iterable[FieldError]:
        if self.state is MilestoneState.BLOCKED:
            if self.reason is None:
                yield FieldError("reason", None, "a reason code for a blocked state")
            if self.owner is None:
                yield FieldError("owner", None, "an owner for a blocked state")
        else:
            if self.reason is not None:
                yield FieldError("reason", self.reason, f"no reason for state {self.state}")
            if self.owner is not None:
                yield FieldError("owner", self.owner, f"no owner for state {self.state}")


@attrs.frozen
class StatusRule(Validated):
    """One rule: the source values it matches and what they mean.

    Attributes:
        match: One value per column of the map; ``None`` matches any value of that column.
        target: What a matching status means.
    """

    match: tuple[str | None, ...] = checked(tuple_of(optional(text)), converter=to_tuple)
    target: StatusTarget = checked(instance_of(StatusTarget))

    def matches(self, values: Sequence[str]) -> bool:
        """Whether this rule covers the given source values (one per column)."""
        return all(
            want is None or want == got for want, got in zip(self.match, values, strict=True)
        )


@attrs.frozen
class MappedStatuses:
    """Canonical codes for every row, from :meth:`StatusMap.apply`.

    Codes index the canonical orders: ``state`` into ``servicedelivery.model.STATES``, ``owner`` into
    ``OWNERS`` and ``reason`` into the map's ``taxonomy.codes``; ``-1`` means none.

    Attributes:
        state: ``int8`` state code per row.
        owner: ``int8`` owner code per row, ``-1`` when not blocked.
        reason: ``int16`` reason code per row, ``-1`` when not blocked.
        rule: ``int32`` index of the rule that matched each row, ``-1`` for the fallback.
    """

    state: npt.NDArray[np.int8]
    owner: npt.NDArray[np.int8]
    reason: npt.NDArray[np.int16]
    rule: npt.NDArray[np.int32]


def _as_columns(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _as_rules(value: Iterable[StatusRule]) -> tuple[StatusRule, ...]:
    return tuple(value)


@attrs.frozen
class StatusMap:
    """A declared mapping from a source system's statuses to canonical state, owner and reason.

    Rules are tried in order and the first that matches wins, so put specific rules before broad
    ones. A rule that an earlier rule always pre-empts is an error, because it can never apply.

    Attributes:
        columns: The source columns read, such as ``("concept:name", "lifecycle:transition")``.
        rules: The rules, in order.
        fallback: What any status no rule covers means; ``None`` makes such statuses an error.
        taxonomy: The taxonomy the reasons come from.
    """

    columns: tuple[str, ...] = attrs.field(converter=_as_columns)
    rules: tuple[StatusRule, ...] = attrs.field(converter=_as_rules)
    fallback: StatusTarget | None = None
    taxonomy: Taxonomy = attrs.field(default=DEFAULT_TAXONOMY, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        errors = list(self._problems())
        if errors:
            raise DefinitionError(errors, title="invalid status map")

    def _problems(self) -> Iterable[FieldError]:
        if not self.columns:
            yield FieldError("columns", self.columns, "at least one column name")
        for index, column in enumerate(self.columns):
            if identifier(column) is not None:
                yield FieldError(f"columns[{index}]", column, "a column name")
        if len(set(self.columns)) != len(self.columns):
            yield FieldError("columns", self.columns, "column names without repeats")
        targets = [(f"rules[{i}].target", rule.target) for i, rule in enumerate(self.rules)]
        if self.fallback is not None:
            targets.append(("fallback", self.fallback))
        for path, target in targets:
            if target.reason is not None and target.reason not in self.taxonomy:
                yield FieldError(
                    f"{path}.reason",
                    target.reason,
                    f"a reason code of the taxonomy ({', '.join(self.taxonomy.codes)})",
                )
        for index, rule in enumerate(self.rules):
            if len(rule.match) != len(self.columns):
                yield FieldError(
                    f"rules[{index}].match",
                    rule.match,
                    f"{len(self.columns)} value(s), one per column {list(self.columns)}",
                )
                continue
            for earlier_index, earlier in enumerate(self.rules[:index]):
                if len(earlier.match) == len(rule.match) and _covers(earlier.match, rule.match):
                    yield FieldError(
                        f"rules[{index}].match",
                        rule.match,
                        f"a match not already covered by rules[{earlier_index}] "
                        "(this rule could never apply)",
                    )
                    break

    def resolve(self, *values: str) -> StatusTarget:
        """The canonical meaning of one status (one value per column).

        Raises:
            UnmappedStatusError: No rule covers the values and the map has no fallback.
        """
        if len(values) != len(self.columns):
            raise ValidationError.single(
                "values",
                values,
                f"{len(self.columns)} value(s), one per column {list(self.columns)}",
            )
        found = self._lookup(values)
        if found is None:
            raise UnmappedStatusError([(tuple(values), 1)], columns=self.columns)
        return found[1]

    def _lookup(self, values: Sequence[str]) -> tuple[int, StatusTarget] | None:
        for index, rule in enumerate(self.rules):
            if rule.matches(values):
                return index, rule.target
        if self.fallback is not None:
            return -1, self.fallback
        return None

    def apply(self, columns: Mapping[str, Sequence[object] | npt.NDArray[Any]]) -> MappedStatuses:
        """Map whole columns of source statuses to canonical codes, without a loop per row.

        Missing values (``None``, NaN) read as the empty string, which a rule may match.

        Args:
            columns: The map's columns by name, each a sequence or array of equal length.

        Raises:
            ValidationError: A column is missing or the lengths differ.
            UnmappedStatusError: Listing every status no rule covers, with its row count.
        """
        missing = [name for name in self.columns if name not in columns]
        if missing:
            raise ValidationError(
                [FieldError(name, MISSING, "a column of source statuses") for name in missing]
            )
        arrays = [_as_text(columns[name]) for name in self.columns]
        lengths = {len(array) for array in arrays}
        if len(lengths) > 1:
            raise ValidationError.single(
                "columns",
                {n: len(a) for n, a in zip(self.columns, arrays, strict=True)},
                "columns of equal length",
            )
        # Factorize each column, then combine the per-column codes into one mixed-radix key, so
        # the rules are consulted once per distinct combination rather than once per row.
        uniques: list[npt.NDArray[np.str_]] = []
        key = np.zeros(len(arrays[0]), dtype=np.int64)
        for array in arrays:
            values, inverse = np.unique(array, return_inverse=True)
            uniques.append(values)
            key = key * len(values) + inverse.reshape(-1)
        combos, first, inverse, counts = np.unique(
            key, return_index=True, return_inverse=True, return_counts=True
        )
        lut_state = np.empty(len(combos), dtype=np.int8)
        lut_owner = np.empty(len(combos), dtype=np.int8)
        lut_reason = np.empty(len(combos), dtype=np.int16)
        lut_rule = np.empty(len(combos), dtype=np.int32)
        unmapped: list[tuple[tuple[str, ...], int]] = []
        reason_index = {code: i for i, code in enumerate(self.taxonomy.codes)}
        for slot, row in enumerate(first):
            combo = tuple(str(array[row]) for array in arrays)
            found = self._lookup(combo)
            if found is None:
                unmapped.append((combo, int(counts[slot])))
                continue
            rule, target = found
            lut_state[slot] = STATES.index(target.state)
            lut_owner[slot] = -1 if target.owner is None else OWNERS.index(target.owner)
            lut_reason[slot] = -1 if target.reason is None else reason_index[target.reason]
            lut_rule[slot] = rule
        if unmapped:
            unmapped.sort(key=lambda item: (-item[1], item[0]))
            raise UnmappedStatusError(unmapped, columns=self.columns)
        inverse = inverse.reshape(-1)
        return MappedStatuses(
            state=lut_state[inverse],
            owner=lut_owner[inverse],
            reason=lut_reason[inverse],
            rule=lut_rule[inverse],
        )

    @classmethod
    def from_data(cls, data: object, *, taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> StatusMap:
        """Load a status map from plain data (as parsed from JSON).

        The data is::

            {"columns": ["status", "sub_status"],
             "rules": [{"match": {"status": "Wait", "sub_status": "User"},
                        "state": "blocked", "reason": "awaiting_customer_information"},
                       {"match": {"status": "Closed"}, "state": "done"}],
             "fallback": {"state": "in_progress"}}

        A column left out of ``match`` matches any value. A blocked rule's owner defaults to its
        reason's owner. With one column, ``"columns"`` may be a string and ``"match"`` a value.

        Raises:
            DefinitionError: Listing every problem with its path.
        """
        if not isinstance(data, Mapping):
            raise DefinitionError.single("", data, "a mapping with 'columns' and 'rules'")
        errors: list[FieldError] = [
            FieldError(
                key, data[key], "no such key; expected columns, rules and optionally fallback"
            )
            for key in data
            if key not in ("columns", "rules", "fallback")
        ]
        columns = data.get("columns", MISSING)
        if isinstance(columns, str):
            columns = [columns]
        if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
            errors.append(
                FieldError("columns", columns, "a column name or a non-empty list of them")
            )
            columns = []
        raw_rules = data.get("rules", MISSING)
        if not isinstance(raw_rules, list):
            errors.append(FieldError("rules", raw_rules, "a list of rules"))
            raw_rules = []
        rules: list[StatusRule] = []
        for index, item in enumerate(raw_rules):
            try:
                rules.append(_rule_from_data(item, columns, taxonomy))
            except ValidationError as error:
                errors.extend(error.with_prefix(f"rules[{index}]").errors)
        fallback = None
        if data.get("fallback") is not None:
            try:
                fallback = _target_from_data(data["fallback"], taxonomy)
            except ValidationError as error:
                errors.extend(error.with_prefix("fallback").errors)
        if errors:
            raise DefinitionError(errors, title="invalid status map")
        return cls(columns=columns, rules=rules, fallback=fallback, taxonomy=taxonomy)

    @classmethod
    def from_json(cls, text: str, *, taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> StatusMap:
        """Load a status map from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text), taxonomy=taxonomy)

    def to_data(self) -> dict[str, Any]:
        """The map as plain data that :meth:`from_data` reads back unchanged."""
        data: dict[str, Any] = {
            "columns": list(self.columns),
            "rules": [
                {
                    "match": {
                        column: value
                        for column, value in zip(self.columns, rule.match, strict=True)
                        if value is not None
                    },
                    **_target_to_data(rule.target),
                }
                for rule in self.rules
            ],
        }
        if self.fallback is not None:
            data["fallback"] = _target_to_data(self.fallback)
        return data


def _covers(broad: Sequence[str | None], narrow: Sequence[str | None]) -> bool:
    """Whether every status ``narrow`` matches is also matched by ``broad``."""
    return all(b is None or b == n for b, n in zip(broad, narrow, strict=True))


_NONE = np.array(None, dtype=object)


def _as_text(values: Sequence[object] | npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    array = np.asarray(values)
    if array.dtype.kind in "US":
        return array.astype(np.str_)
    array = np.asarray(values, dtype=object)
    # None and float NaN (how pandas marks a missing value) both read as "": NaN is the one value
    # that is not equal to itself.
    missing = np.equal(array, _NONE) | np.not_equal(array, array)
    if missing.any():
        array = array.copy()
        array[missing] = ""
    return array.astype(np.str_)


_TARGET_KEYS = ("state", "owner", "reason")


def _target_to_data(target: StatusTarget) -> dict[str, str]:
    data = {"state": target.state.value}
    if target.owner is not None:
        data["owner"] = target.owner.value
    if target.reason is not None:
        data["reason"] = target.reason
    return data


def _target_from_data(item: object, taxonomy: Taxonomy) -> StatusTarget:
    if not isinstance(item, Mapping):
        raise ValidationError.single(
            "", item, "a mapping with state, and owner / reason if blocked"
        )
    errors = [
        FieldError(key, item[key], "no such key; expected state, owner, reason")
        for key in item
        if key not in (*_TARGET_KEYS, "match")
    ]
    state: Any = MISSING
    if "state" not in item:
        errors.append(FieldError("state", MISSING, "a state"))
    else:
        try:
            state = MilestoneState(item["state"])
        except ValueError:
            errors.append(
                FieldError(
                    "state", item["state"], f"one of {', '.join(s.value for s in MilestoneState)}"
                )
            )
    owner: Owner | None = None
    if item.get("owner") is not None:
        try:
            owner = Owner(item["owner"])
        except ValueError:
            errors.append(
                FieldError("owner", item["owner"], f"one of {', '.join(o.value for o in Owner)}")
            )
    reason = item.get("reason")
    if reason is not None:
        known = taxonomy.get(reason) if isinstance(reason, str) else None
        if known is None:
            errors.append(
                FieldError(
                    "reason", reason, f"a reason code of the taxonomy ({', '.join(taxonomy.codes)})"
                )
            )
        elif owner is None and "owner" not in item and state is MilestoneState.BLOCKED:
            owner = known.owner
    if errors:
        raise ValidationError(errors)
    return StatusTarget(state=state, owner=owner, reason=reason)


def _rule_from_data(item: object, columns: Sequence[str], taxonomy: Taxonomy) -> StatusRule:
    if not isinstance(item, Mapping):
        raise ValidationError.single("", item, "a mapping with match and state")
    match = item.get("match", MISSING)
    errors: list[FieldError] = []
    values: list[str | None] = [None] * len(columns)
    if isinstance(match, str) and len(columns) == 1:
        values = [match]
    elif isinstance(match, Mapping) and match:
        for column, value in match.items():
            if column not in columns:
                errors.append(
                    FieldError(f"match.{column}", value, f"a column of the map {list(columns)}")
                )
            elif not isinstance(value, str):
                errors.append(FieldError(f"match.{column}", value, "a status value (string)"))
            else:
                values[columns.index(column)] = value
    else:
        expected = "a non-empty mapping from column name to value"
        if len(columns) == 1:
            expected += ", or a single value"
        errors.append(FieldError("match", match, expected))
    try:
        target = _target_from_data(item, taxonomy)
    except ValidationError as error:
        errors.extend(error.errors)
    if errors:
        raise ValidationError(errors)
    return StatusRule(match=tuple(values), target=target)
