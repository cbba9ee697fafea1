"""The lifecycle compiled to numpy arrays, and whole histories validated against it.

An event's outcome depends on the state it meets, on what it records (a trigger, or a target
state), and on which guards its details pass. Guards read only the event, so each event gets a
*row*: ``symbol * 8 + mask``, where the three bits of ``mask`` say whether it has a reason, has an
owner, and has the reason's owner (or an override). The table holds, for every row and state, the
state after the event and the kind of violation (``-1`` for none), compiled once from the rules by
a loop over symbols, masks, states and rules. Validation is then vectorized masks for the rows, one
replay (see ``_kernel``) for the states, and two look-ups for the outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.lifecycle._check import HistoryCheck, ViolationKind
from servicedelivery.lifecycle._definition import Guard, ordered_guards
from servicedelivery.lifecycle._kernel import _CHUNK, Grouping, group_events, replay
from servicedelivery.model import DEFAULT_TAXONOMY, OWNERS, Taxonomy

if TYPE_CHECKING:
    from servicedelivery.lifecycle._lifecycle import Lifecycle

__all__ = ["LifecycleTable"]

_HAS_REASON, _HAS_OWNER, _OWNER_MATCHES = 1, 2, 4
_MASKS = 8
_GUARD_BITS = {
    Guard.NEEDS_REASON: _HAS_REASON,
    Guard.NEEDS_OWNER: _HAS_OWNER,
    Guard.OWNER_MATCHES_REASON: _OWNER_MATCHES,
}
_OWNER_NAMES = tuple(owner.value for owner in OWNERS)
_SHOWN_VALUES = 5

Initial = int | str | npt.ArrayLike | HistoryCheck | None


class LifecycleTable:
    """A lifecycle compiled to arrays, to validate millions of recorded events at once.

    Get it from :attr:`Lifecycle.table <servicedelivery.lifecycle.Lifecycle.table>`.

    Attributes:
        lifecycle: The lifecycle it was compiled from.
        destinations: ``int8`` array ``[trigger, state]``: the state a trigger leads to from a
            state, ``-1`` where the trigger is not allowed (guards aside).
    """

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        index = {name: code for code, name in enumerate(lifecycle.state_names)}
        # (source, trigger) -> (dest, guards), and (source, dest) -> every (guards) leading there.
        by_trigger: dict[tuple[int, str], tuple[int, tuple[Guard, ...]]] = {}
        by_target: dict[tuple[int, int], list[tuple[Guard, ...]]] = {}
        for rule in lifecycle.transitions:
            guards = ordered_guards(rule.guards)
            for source in rule.sources:
                by_trigger[index[source], rule.trigger] = (index[rule.dest], guards)
                by_target.setdefault((index[source], index[rule.dest]), []).append(guards)
        n_states = len(index)
        self.destinations = np.full((len(lifecycle.trigger_names), n_states), -1, dtype=np.int8)
        for (source_code, trigger_name), (dest, _) in by_trigger.items():
            self.destinations[lifecycle.trigger_code(trigger_name), source_code] = dest

        def trigger_outcome(symbol: int, state: int) -> list[tuple[int, tuple[Guard, ...]]]:
            found = by_trigger.get((state, lifecycle.trigger_names[symbol]))
            return [] if found is None else [found]

        def target_outcome(symbol: int, state: int) -> list[tuple[int, tuple[Guard, ...]]]:
            # A recorded state equal to the current one is an observation, not a move.
            if symbol == state:
                return [(state, ())]
            return [(symbol, guards) for guards in by_target.get((state, symbol), [])]

        self._trigger_rows = _compile(
            len(lifecycle.trigger_names), n_states, trigger_outcome, ViolationKind.ILLEGAL_TRIGGER
        )
        self._target_rows = _compile(
            n_states, n_states, target_outcome, ViolationKind.ILLEGAL_TARGET
        )

    def __repr__(self) -> str:
        return f"<LifecycleTable of lifecycle {self.lifecycle.name!r}>"

    def validate(
        self,
        items: npt.ArrayLike,
        triggers: npt.ArrayLike,
        *,
        times: npt.ArrayLike | None = None,
        owners: npt.ArrayLike | None = None,
        reasons: npt.ArrayLike | None = None,
        overrides: npt.ArrayLike | None = None,
        initial: Initial = None,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    ) -> HistoryCheck:
        """Validate a history of triggers, every item at once.

        Args:
            items: The item of each event: integer codes, or string ids.
            triggers: The trigger of each event: codes (indexes in ``trigger_names``) or names.
            times: When each event happened: integers (such as epoch nanoseconds) or
                ``datetime64``. With times, each item's events are replayed in time order, equal
                times in input order; without, input order is event order.
            owners: The owner each event names: ``model.OWNERS`` codes or ``Owner`` values,
                ``-1`` (or ``None``) for none. Without this column, guards on owners are not checked.
            reasons: The blocked reason each event names: codes (indexes in ``taxonomy.codes``) or
                reason codes, ``-1`` (or ``None``) for none. Without it, guards on reasons are not
                checked.
            overrides: Whether each event's owner is an explicit override (booleans); none are by
                default.
            initial: Where items start: a state (code or name) for all, an array aligned with the
                events (each item starts in the value at its first event), or a previous
                :class:`HistoryCheck` to continue from (items it does not know start in the
                lifecycle's initial state). ``lifecycle.initial`` by default.
            taxonomy: The taxonomy of the reasons, for their default owners.

        Returns:
            Every violation and the state of every item.

        Raises:
            ValidationError: An array is malformed, of the wrong length, or holds an unknown code
                or name; every problem is listed.
        """
        return self._validate(
            "trigger",
            items,
            triggers,
            self.lifecycle.trigger_names,
            times=times,
            owners=owners,
            reasons=reasons,
            overrides=overrides,
            initial=initial,
            taxonomy=taxonomy,
        )

    def validate_states(
        self,
        items: npt.ArrayLike,
        states: npt.ArrayLike,
        *,
        times: npt.ArrayLike | None = None,
        owners: npt.ArrayLike | None = None,
        reasons: npt.ArrayLike | None = None,
        overrides: npt.ArrayLike | None = None,
        initial: Initial = None,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    ) -> HistoryCheck:
        """Validate a history of recorded states (such as a status map's output), all at once.

        A recorded state is legal when some rule leads there from the item's state and the
        event passes that rule's guards; a state equal to the current one is an observation and
        always legal. Arguments are as for :meth:`validate`, with ``states`` (codes or names) in
        place of triggers.

        Raises:
            ValidationError: An array is malformed, of the wrong length, or holds an unknown code
                or name; every problem is listed.
        """
        return self._validate(
            "state",
            items,
            states,
            self.lifecycle.state_names,
            times=times,
            owners=owners,
            reasons=reasons,
            overrides=overrides,
            initial=initial,
            taxonomy=taxonomy,
        )

    def _validate(
        self,
        by: str,
        items: npt.ArrayLike,
        symbols: npt.ArrayLike,
        names: Sequence[str],
        *,
        times: npt.ArrayLike | None,
        owners: npt.ArrayLike | None,
        reasons: npt.ArrayLike | None,
        overrides: npt.ArrayLike | None,
        initial: Initial,
        taxonomy: Taxonomy,
    ) -> HistoryCheck:
        errors: list[FieldError] = []
        item_column = _items(items, errors)
        n = None if item_column is None else len(item_column.values)
        symbol_codes = _codes(f"{by}s", symbols, n, names, errors)
        when = None if times is None else _times(times, n, errors)
        owner_codes = _codes("owners", owners, n, _OWNER_NAMES, errors, none=True)
        reason_codes = _codes("reasons", reasons, n, taxonomy.codes, errors, none=True)
        override_flags = None if overrides is None else _flags(overrides, n, errors)
        start = self._initial(initial, n, errors)
        if errors:
            raise ValidationError(errors, title=f"invalid {by} history")
        # Without errors, every column given was read.
        assert item_column is not None
        assert symbol_codes is not None
        step, kind = self._trigger_rows if by == "trigger" else self._target_rows
        n_states = step.shape[1]
        # Each event's offset in the flat tables: its row times the number of states.
        narrow = step.size < np.iinfo(np.int16).max
        offsets = _rows(
            symbol_codes,
            owner_codes,
            reason_codes,
            override_flags,
            taxonomy,
            dtype=np.int16 if narrow else np.int32,
        )
        offsets *= n_states
        grouping = group_events(item_column.codes, offsets, times=when)
        # Items as the caller named them, in the replay's group order.
        labels = (
            grouping.items if item_column.labels is None else item_column.labels[grouping.items]
        )
        before, final = replay(
            step.ravel(),
            grouping,
            self._start_states(start, grouping, labels),
            n_states=n_states,
        )
        after, kinds = _outcomes(step.ravel(), kind.ravel(), offsets, before)
        positions = np.flatnonzero(kinds >= 0).astype(np.int64, copy=False)
        return HistoryCheck(
            lifecycle=self.lifecycle,
            by=by,
            positions=positions,
            kinds=kinds[positions],
            attempted=symbol_codes[positions].astype(np.int16),
            violating_items=item_column.values[positions],
            states_before=before,
            states_after=after,
            items=labels if grouping.ascending is None else labels[grouping.ascending],
            final_states=final if grouping.ascending is None else final[grouping.ascending],
        )

    def _initial(self, initial: Initial, n: int | None, errors: list[FieldError]) -> Any:
        """The ``initial`` argument checked: a state code, per-event codes, or a check."""
        lifecycle = self.lifecycle
        if initial is None:
            return lifecycle.state_names.index(lifecycle.initial)
        if isinstance(initial, HistoryCheck):
            if initial.lifecycle != lifecycle:
                errors.append(
                    FieldError(
                        "initial",
                        initial,
                        f"a check made with lifecycle {lifecycle.name!r} (its state codes differ)",
                    )
                )
            return initial
        if isinstance(initial, str) or (
            isinstance(initial, (int, np.integer)) and not isinstance(initial, bool)
        ):
            codes = _codes("initial", np.array([initial]), 1, lifecycle.state_names, errors)
            return None if codes is None else int(codes[0])
        return _codes("initial", initial, n, lifecycle.state_names, errors)

    def _start_states(
        self,
        start: int | HistoryCheck | npt.NDArray[np.integer],
        grouping: Grouping,
        labels: npt.NDArray[Any],
    ) -> npt.NDArray[np.int8]:
        """Each item's start state, from the checked ``initial`` argument."""
        default = self.lifecycle.state_names.index(self.lifecycle.initial)
        n_items = len(grouping.lengths)
        if isinstance(start, int):
            return np.full(n_items, start, dtype=np.int8)
        if isinstance(start, HistoryCheck):
            return _continued(start, labels, default)
        # Per-event start states: each item reads the one at its first event.
        first = np.cumsum(grouping.lengths) - grouping.lengths
        if grouping.order is not None:
            first = grouping.order[first]
        return np.asarray(start[first], dtype=np.int8)


def _outcomes(
    step: npt.NDArray[np.int8],
    kind: npt.NDArray[np.int8],
    offsets: npt.NDArray[np.integer],
    before: npt.NDArray[np.int8],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """The state after each event and its violation kind: a look-up of (row, state before).

    In chunks, so that the look-up indexes never take a history-sized temporary array.
    """
    n = len(offsets)
    after = np.empty(n, dtype=np.int8)
    kinds = np.empty(n, dtype=np.int8)
    index = np.empty(min(n, _CHUNK), dtype=np.intp)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        chunk = np.add(offsets[start:stop], before[start:stop], out=index[: stop - start])
        np.take(step, chunk, out=after[start:stop])
        np.take(kind, chunk, out=kinds[start:stop])
    return after, kinds


def _continued(
    previous: HistoryCheck, labels: npt.NDArray[Any], default: int
) -> npt.NDArray[np.int8]:
    """Start states of ``labels`` continuing from ``previous``.

    Its final states where it knows the item, ``default`` elsewhere.
    """
    known = previous.items
    states = np.full(len(labels), default, dtype=np.int8)
    if len(known) == 0 or len(labels) == 0:
        return states
    if (known.dtype.kind in "iu") != (labels.dtype.kind in "iu"):
        raise ValidationError.single(
            "initial",
            previous,
            "a check of a history with the same kind of items (codes, or string ids)",
        )
    # previous.items is sorted: a binary search finds each item, vectorized.
    where = np.minimum(np.searchsorted(known, labels), len(known) - 1)
    found = known[where] == labels
    states[found] = previous.final_states[where[found]]
    return states


def _compile(
    n_symbols: int,
    n_states: int,
    outcomes: Callable[[int, int], list[tuple[int, tuple[Guard, ...]]]],
    illegal: ViolationKind,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """``step[row, state]`` and ``kind[row, state]`` for every row ``symbol * 8 + mask``.

    ``outcomes(symbol, state)`` lists the (dest, guards) a symbol may lead to from a state, in
    rule order; the first whose guards the mask passes wins, else the first refusal is reported.
    """
    step = np.empty((n_symbols * _MASKS, n_states), dtype=np.int8)
    kind = np.full((n_symbols * _MASKS, n_states), -1, dtype=np.int8)
    for symbol in range(n_symbols):
        for state in range(n_states):
            candidates = outcomes(symbol, state)
            for mask in range(_MASKS):
                row = symbol * _MASKS + mask
                step[row, state] = state
                if not candidates:
                    kind[row, state] = illegal
                    continue
                refusals = [_first_failed(guards, mask) for _, guards in candidates]
                passing = [
                    dest
                    for (dest, _), refused in zip(candidates, refusals, strict=True)
                    if refused is None
                ]
                failed = refusals[0]
                if passing:
                    step[row, state] = passing[0]
                elif failed is not None:  # always, when no candidate passes
                    kind[row, state] = ViolationKind.of_guard(failed)
    return step, kind


def _first_failed(guards: Sequence[Guard], mask: int) -> Guard | None:
    for guard in guards:
        if not mask & _GUARD_BITS[guard]:
            return guard
    return None


def _rows(
    symbols: npt.NDArray[np.integer],
    owners: npt.NDArray[np.integer] | None,
    reasons: npt.NDArray[np.integer] | None,
    overrides: npt.NDArray[np.bool_] | None,
    taxonomy: Taxonomy,
    *,
    dtype: type[np.integer],
) -> npt.NDArray[np.integer]:
    """Each event's row in the tables: its symbol and which guards its details pass.

    A guard whose column was not given passes, so that histories without details are checked on
    their moves alone. The owner guard mirrors the scalar check: it passes when there is no
    reason to compare with, when the event overrides, or when the owner is the reason's.
    """
    rows = symbols.astype(dtype)
    rows *= _MASKS
    if owners is None and reasons is None:
        rows += _HAS_REASON | _HAS_OWNER | _OWNER_MATCHES
        return rows
    if reasons is None:
        rows += _HAS_REASON | _OWNER_MATCHES
    else:
        has_reason = reasons >= 0
        rows += has_reason
    if owners is None:
        # Without owners the owner match cannot be checked either: both pass.
        rows += _HAS_OWNER | _OWNER_MATCHES * (reasons is not None)
        return rows
    rows += (owners >= 0).astype(dtype) * _HAS_OWNER
    if reasons is not None:
        default_owner = np.array(
            [OWNERS.index(reason.owner) for reason in taxonomy.reasons], dtype=owners.dtype
        )
        matches = owners == default_owner[np.maximum(reasons, 0)]
        matches |= ~has_reason
        if overrides is not None:
            matches |= overrides
        rows += matches.astype(dtype) * _OWNER_MATCHES
    return rows


class _ItemColumn:
    """Item ids as given, the integer codes the replay groups by, and the labels of the codes."""

    def __init__(
        self,
        values: npt.NDArray[Any],
        codes: npt.NDArray[np.int64],
        labels: npt.NDArray[Any] | None,
    ) -> None:
        self.values = values
        self.codes = codes
        self.labels = labels


def _column(values: npt.ArrayLike, *, empty: type[np.generic] = np.int64) -> npt.NDArray[Any]:
    """``values`` as an array; an empty list (which numpy reads as floats) as ``empty`` values."""
    array = np.asarray(values)
    return array.astype(empty) if array.size == 0 and array.ndim == 1 else array


def _shape_problem(path: str, array: npt.NDArray[Any], n: int | None) -> FieldError | None:
    if array.ndim != 1:
        return FieldError(path, f"an array of shape {array.shape}", "a one-dimensional array")
    if n is not None and len(array) != n:
        return FieldError(path, f"{len(array)} values", f"{n} values, one per event (as items)")
    return None


def _items(items: npt.ArrayLike, errors: list[FieldError]) -> _ItemColumn | None:
    array = _column(items)
    problem = _shape_problem("items", array, None)
    if problem is not None:
        errors.append(problem)
        return None
    # Codes that fit int64 are grouped as they are; others (strings, the top half of uint64) are
    # factorized first.
    if array.dtype.kind in "iu" and not (array.dtype == np.uint64 and _above_int64(array)):
        codes = array.astype(np.int64, copy=False)
        return _ItemColumn(array, codes, None)
    if array.dtype.kind in "u":
        labels, inverse = np.unique(array, return_inverse=True)
        return _ItemColumn(array, inverse.reshape(-1).astype(np.int64), labels)
    if array.dtype.kind in "U" or (array.dtype.kind == "O" and _all_strings(array)):
        text = array.astype(np.str_)
        labels, inverse = np.unique(text, return_inverse=True)
        return _ItemColumn(text, inverse.reshape(-1).astype(np.int64), labels)
    errors.append(
        FieldError("items", f"an array of {array.dtype}", "integer item codes or string ids")
    )
    return None


def _above_int64(array: npt.NDArray[Any]) -> bool:
    return len(array) > 0 and int(array.max()) > np.iinfo(np.int64).max


def _all_strings(array: npt.NDArray[Any]) -> bool:
    # Object columns (from pandas, say) hold Python objects: checking them is a C loop calling
    # isinstance, the least an object column can cost.
    return bool(np.all(np.frompyfunc(lambda value: isinstance(value, str), 1, 1)(array)))


def _codes(
    path: str,
    values: npt.ArrayLike | None,
    n: int | None,
    names: Sequence[str],
    errors: list[FieldError],
    *,
    none: bool = False,
) -> npt.NDArray[np.integer] | None:
    """Codes (indexes in ``names``) from codes or names.

    With ``none``, ``-1`` (or ``None``, or ``""`` as a name) means none.
    """
    if values is None:
        return None
    array = _column(values)
    problem = _shape_problem(path, array, n)
    if problem is not None:
        errors.append(problem)
        return None
    low = -1 if none else 0
    dtype = np.int16 if len(names) < np.iinfo(np.int16).max else np.int32
    if array.dtype.kind in "iu":
        if len(array) and (int(array.min()) < low or int(array.max()) >= len(names)):
            bad = (array < low) | (array >= len(names))
            first = int(np.argmax(bad))
            errors.append(
                FieldError(
                    f"{path}[{first}]",
                    array[first].item(),
                    f"a code from {low} to {len(names) - 1} ({int(bad.sum()):,} bad in all)",
                )
            )
            return None
        return array.astype(dtype, copy=False)
    if array.dtype.kind in "UO":
        return _codes_of_names(path, array, names, errors, none=none)
    errors.append(
        FieldError(
            path, f"an array of {array.dtype}", f"integer codes or names ({', '.join(names)})"
        )
    )
    return None


def _codes_of_names(
    path: str,
    array: npt.NDArray[Any],
    names: Sequence[str],
    errors: list[FieldError],
    *,
    none: bool,
) -> npt.NDArray[np.integer] | None:
    if array.dtype.kind == "O":
        # None marks a missing value; everything else must be a name.
        missing = np.equal(array, np.array(None, dtype=object))
        if bool(missing.any()):
            array = array.copy()
            array[missing] = ""
        if not _all_strings(array):
            errors.append(FieldError(path, "non-string values", f"names ({', '.join(names)})"))
            return None
    distinct, inverse = np.unique(array.astype(np.str_), return_inverse=True)
    lookup = {name: code for code, name in enumerate(names)}
    if none:
        lookup[""] = -1
    # A loop over the distinct names, never over events.
    codes = np.array([lookup.get(str(name), -2) for name in distinct], dtype=np.int64)
    unknown = [str(name) for name, code in zip(distinct, codes, strict=True) if code == -2]
    if unknown:
        shown = ", ".join(repr(name) for name in unknown[:_SHOWN_VALUES])
        more = f" and {len(unknown) - _SHOWN_VALUES} more" if len(unknown) > _SHOWN_VALUES else ""
        errors.append(
            FieldError(path, f"unknown names {shown}{more}", f"names from ({', '.join(names)})")
        )
        return None
    narrow = codes.astype(np.int16 if len(names) < np.iinfo(np.int16).max else np.int32)
    return np.asarray(narrow[inverse.reshape(-1)], dtype=narrow.dtype)


def _times(
    times: npt.ArrayLike, n: int | None, errors: list[FieldError]
) -> npt.NDArray[np.int64] | None:
    array = _column(times)
    problem = _shape_problem("times", array, n)
    if problem is not None:
        errors.append(problem)
        return None
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "M":
        nat = np.isnat(array)
        if bool(nat.any()):
            errors.append(FieldError(f"times[{int(np.argmax(nat))}]", "NaT", "a time"))
            return None
        return array.astype("datetime64[ns]").view(np.int64)
    errors.append(
        FieldError("times", f"an array of {array.dtype}", "integers (epoch ns) or datetime64")
    )
    return None


def _flags(
    overrides: npt.ArrayLike, n: int | None, errors: list[FieldError]
) -> npt.NDArray[np.bool_] | None:
    array = _column(overrides, empty=np.bool_)
    problem = _shape_problem("overrides", array, n)
    if problem is not None:
        errors.append(problem)
        return None
    if array.dtype != np.bool_:
        errors.append(FieldError("overrides", f"an array of {array.dtype}", "booleans"))
        return None
    return array
