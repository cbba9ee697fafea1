"""Calendar sets: which calendar counts for each item, through a declared chain.

An item (a milestone, a case) counts its working time in its site's calendar if the site has one,
else in its region's, else in the default. A :class:`CalendarSet` declares that chain and resolves
it for whole columns at once; its array operations take a calendar index per element and run each
calendar once over the elements that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars._calendar import BusinessCalendar
from servicedelivery.calendars._instants import (
    as_durations,
    as_instants,
    broadcast,
    invalid_positions,
)
from servicedelivery.calendars._reading import read_json, unknown_keys
from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError
from servicedelivery.model._statusmap import _as_text
from servicedelivery.model._validation import identifier

__all__ = ["CalendarSet"]

_KEYS = ("calendars", "default", "by_region", "by_site")

Labels = Sequence[str | None] | npt.NDArray[Any]
"""A column of labels (site ids, region names); ``None`` or ``""`` where there is none."""


def _frozen_mapping(value: object) -> object:
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else value


def _mapping_repr(value: object) -> str:
    return (
        repr({key: calendar.name for key, calendar in value.items()})
        if isinstance(value, Mapping)
        else repr(value)
    )


@attrs.frozen(kw_only=True)
class CalendarSet:
    """An organization's calendars and the chain that picks one per item: site, region, default.

    Attributes:
        default: The calendar of items whose site and region have none.
        by_region: A region's calendar, for its sites that have none of their own.
        by_site: A site's own calendar, by site id.
        calendars: Every distinct calendar, the default first, then in the order the regions and
            sites name them; an item's calendar index points into it.
    """

    default: BusinessCalendar
    by_region: Mapping[str, BusinessCalendar] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False, repr=_mapping_repr
    )
    by_site: Mapping[str, BusinessCalendar] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False, repr=_mapping_repr
    )
    calendars: tuple[BusinessCalendar, ...] = attrs.field(init=False, eq=False, repr=False)
    _index: Mapping[str, int] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        errors = list(self._problems())
        if errors:
            raise DefinitionError(errors, title="invalid calendar set")
        calendars: dict[str, BusinessCalendar] = {self.default.name: self.default}
        for calendar in (*self.by_region.values(), *self.by_site.values()):
            calendars.setdefault(calendar.name, calendar)
        object.__setattr__(self, "calendars", tuple(calendars.values()))
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(calendars)})

    def __reduce__(self) -> tuple[Any, ...]:
        # The mappings are read-only views, which do not pickle; rebuild from the fields instead.
        return (_restore, (self.default, dict(self.by_region), dict(self.by_site)))

    def _problems(self) -> Iterator[FieldError]:
        # Typed as objects: the constructor may have been handed anything.
        default: object = self.default
        named: dict[str, tuple[str, BusinessCalendar]] = {}
        if isinstance(default, BusinessCalendar):
            named[default.name] = ("default", default)
        else:
            yield FieldError("default", default, "a BusinessCalendar")
        for field in ("by_region", "by_site"):
            mapping: object = getattr(self, field)
            if not isinstance(mapping, Mapping):
                yield FieldError(field, mapping, "a mapping of ids to BusinessCalendar")
                continue
            for key, calendar in mapping.items():
                path = f"{field}[{key!r}]"
                if (expected := identifier(key)) is not None:
                    yield FieldError(path, key, expected)
                if not isinstance(calendar, BusinessCalendar):
                    yield FieldError(path, calendar, "a BusinessCalendar")
                    continue
                first_path, first = named.setdefault(calendar.name, (path, calendar))
                if first != calendar:
                    yield FieldError(
                        f"{path}.name",
                        calendar.name,
                        f"a name that identifies one calendar ({first_path} is another "
                        "calendar of that name)",
                    )

    def __getitem__(self, name: str) -> BusinessCalendar:
        """The calendar with this name.

        Raises:
            ValidationError: No calendar of the set has it; the message lists their names.
        """
        return self.calendars[self.index(name)]

    def index(self, name: str) -> int:
        """The index in :attr:`calendars` of the calendar with this name.

        Raises:
            ValidationError: No calendar of the set has it; the message lists their names.
        """
        if name not in self._index:
            known = ", ".join(repr(known) for known in self._index)
            raise ValidationError.single(
                "name", name, f"the name of a calendar of the set ({known})"
            )
        return self._index[name]

    def calendar_for(
        self, *, site: str | None = None, region: str | None = None
    ) -> BusinessCalendar:
        """The calendar of one item: its site's, else its region's, else the default."""
        if site is not None and site in self.by_site:
            return self.by_site[site]
        if region is not None and region in self.by_region:
            return self.by_region[region]
        return self.default

    def resolve(
        self, *, sites: Labels | None = None, regions: Labels | None = None
    ) -> npt.NDArray[np.int32]:
        """The calendar index of every item, from columns of site ids and region names.

        A missing label (``None``, ``""``) or one the set does not know falls through to the next
        link of the chain. The chain is applied to the distinct labels, then spread to the items.

        Args:
            sites: Each item's site id.
            regions: Each item's region, the same length as ``sites``.

        Returns:
            ``int32`` indexes into :attr:`calendars`, one per item.

        Raises:
            ValidationError: Neither column given, or columns of different lengths.
        """
        if sites is None and regions is None:
            raise ValidationError.single("sites, regions", None, "at least one column of labels")
        columns = {
            name: _factorized(values)
            for name, values in (("sites", sites), ("regions", regions))
            if values is not None
        }
        lengths = {name: len(codes) for name, (codes, _) in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValidationError.single("sites, regions", lengths, "columns of equal length")
        site_codes, site_names = columns.get("sites", (None, None))
        region_codes, region_names = columns.get("regions", (None, None))
        return self.resolve_codes(
            site_codes=site_codes,
            site_names=site_names,
            region_codes=region_codes,
            region_names=region_names,
        )

    def resolve_codes(
        self,
        *,
        site_codes: npt.ArrayLike | None = None,
        site_names: Sequence[str] | npt.NDArray[Any] | None = None,
        region_codes: npt.ArrayLike | None = None,
        region_names: Sequence[str] | npt.NDArray[Any] | None = None,
    ) -> npt.NDArray[np.int32]:
        """The calendar index of every item, from categorical columns (codes and their names).

        Columnar data stores a site or a region as an ``int32`` code into a dictionary of names;
        ``-1`` means none. The chain is applied once per name.

        Raises:
            ValidationError: Codes without names (or the reverse), codes out of range, or columns
                of different lengths.
        """
        chosen: npt.NDArray[np.int32] | None = None
        # The region link first, so that a known site overrides it.
        links = (
            ("region", region_codes, region_names, self.by_region),
            ("site", site_codes, site_names, self.by_site),
        )
        for label, codes, names, mapping in links:
            if codes is None and names is None:
                continue
            if codes is None or names is None:
                raise ValidationError.single(
                    f"{label}_codes, {label}_names", None, "codes and names given together"
                )
            code_array = _codes(codes, len(names), path=f"{label}_codes")
            lookup = np.array(
                [self._index[mapping[n].name] if n in mapping else -1 for n in names] + [-1],
                dtype=np.int32,
            )
            # Code -1 reads the trailing -1 of the look-up table: no calendar at this link.
            found = lookup[code_array]
            if chosen is None:
                chosen = np.zeros(len(found), dtype=np.int32)
            elif len(chosen) != len(found):
                raise ValidationError.single(
                    "site_codes, region_codes",
                    {"site_codes": len(found), "region_codes": len(chosen)},
                    "columns of equal length",
                )
            chosen = np.where(found >= 0, found, chosen).astype(np.int32)
        if chosen is None:
            raise ValidationError.single("site_codes, region_codes", None, "at least one column")
        return chosen

    # --- array operations, one calendar per element ------------------------------------------

    def working_ns(
        self, start: npt.ArrayLike, end: npt.ArrayLike, *, calendar: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """:meth:`BusinessCalendar.working_ns`, each element in its own calendar.

        Args:
            start: Instants, ``int64`` ns since the epoch.
            end: Instants.
            calendar: Each element's index into :attr:`calendars` (see :meth:`resolve`).
        """
        return self._per_calendar(
            BusinessCalendar.working_ns,
            calendar,
            start=as_instants(start, path="start"),
            end=as_instants(end, path="end"),
        )

    def add_working(
        self, start: npt.ArrayLike, work: npt.ArrayLike, *, calendar: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """:meth:`BusinessCalendar.add_working`, each element in its own calendar."""
        return self._per_calendar(
            BusinessCalendar.add_working,
            calendar,
            start=as_instants(start, path="start"),
            work=as_durations(work, path="work"),
        )

    def is_working(self, at: npt.ArrayLike, *, calendar: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """:meth:`BusinessCalendar.is_working`, each element in its own calendar."""
        return self._per_calendar(
            BusinessCalendar.is_working, calendar, at=as_instants(at, path="at")
        )

    def next_opening(self, at: npt.ArrayLike, *, calendar: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """:meth:`BusinessCalendar.next_opening`, each element in its own calendar."""
        return self._per_calendar(
            BusinessCalendar.next_opening, calendar, at=as_instants(at, path="at")
        )

    def previous_closing(
        self, at: npt.ArrayLike, *, calendar: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """:meth:`BusinessCalendar.previous_closing`, each element in its own calendar."""
        return self._per_calendar(
            BusinessCalendar.previous_closing, calendar, at=as_instants(at, path="at")
        )

    def _per_calendar(
        self,
        operation: Callable[..., npt.NDArray[Any]],
        calendar: npt.ArrayLike,
        **arrays: npt.NDArray[np.int64],
    ) -> npt.NDArray[Any]:
        index = _codes(calendar, len(self.calendars), path="calendar", allow_none=False)
        index, *values = broadcast(calendar=index, **arrays)
        shape = index.shape
        index, values = index.ravel(), [value.ravel() for value in values]
        result: npt.NDArray[Any] | None = None
        # One pass per calendar in use, over the elements that use it.
        for which in np.flatnonzero(np.bincount(index, minlength=len(self.calendars))):
            rows = np.flatnonzero(index == which)
            try:
                part = operation(self.calendars[which], *(value[rows] for value in values))
            except ValidationError as error:
                raise _relocated(error, rows, shape) from None
            if result is None:
                result = np.zeros(len(index), dtype=part.dtype)
            result[rows] = part
        if result is None:  # no elements: ask the default calendar for the empty answer
            result = operation(self.default, *values)
        return result.reshape(shape)

    # --- data ------------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: object) -> CalendarSet:
        """Load a set from plain data: the calendars, then the chain by calendar name.

        The data is::

            {"calendars": [{"name": "fr", ...}, {"name": "uk", ...}],
             "default": "fr",
             "by_region": {"uk_and_ireland": "uk"},
             "by_site": {"S-0042": "uk"}}

        Every calendar listed must be used by the chain.

        Raises:
            DefinitionError: Listing every problem with its path, such as ``calendars[1].hours``.
        """
        if not isinstance(data, Mapping):
            raise DefinitionError.single("", data, "a mapping with 'calendars' and 'default'")
        errors = unknown_keys(data, _KEYS)
        raw = data.get("calendars", MISSING)
        if not isinstance(raw, list) or not raw:
            errors.append(FieldError("calendars", raw, "a non-empty list of calendars"))
            raw = []
        by_name: dict[str, BusinessCalendar] = {}
        used: set[str] = set()
        for index, item in enumerate(raw):
            try:
                calendar = BusinessCalendar.from_data(item)
            except ValidationError as error:
                errors.extend(error.with_prefix(f"calendars[{index}]").errors)
                continue
            if calendar.name in by_name:
                errors.append(
                    FieldError(f"calendars[{index}].name", calendar.name, "a name not used before")
                )
            by_name.setdefault(calendar.name, calendar)
        complete = not errors
        known = ", ".join(repr(name) for name in by_name) or "none"

        def pick(path: str, name: object) -> BusinessCalendar | None:
            if isinstance(name, str) and name in by_name:
                used.add(name)
                return by_name[name]
            if complete:
                errors.append(FieldError(path, name, f"the name of a listed calendar ({known})"))
            return None

        default = pick("default", data.get("default", MISSING))
        chains: dict[str, dict[str, BusinessCalendar]] = {}
        for field in ("by_region", "by_site"):
            mapping = data.get(field, {})
            if not isinstance(mapping, Mapping):
                errors.append(FieldError(field, mapping, "a mapping of ids to calendar names"))
                continue
            chains[field] = {
                key: chosen
                for key, name in mapping.items()
                if (chosen := pick(f"{field}[{key!r}]", name)) is not None
            }
        if complete:
            errors.extend(
                FieldError(f"calendars[{index}]", name, "a calendar that the chain uses")
                for index, name in enumerate(by_name)
                if name not in used
            )
        if errors or default is None:
            raise DefinitionError(errors, title="invalid calendar set")
        return cls(default=default, **chains)

    @classmethod
    def from_json(cls, text: str) -> CalendarSet:
        """Load a set from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text))

    def to_data(self) -> dict[str, Any]:
        """The set as plain data that :meth:`from_data` reads back unchanged."""
        return {
            "calendars": [calendar.to_data() for calendar in self.calendars],
            "default": self.default.name,
            "by_region": {key: calendar.name for key, calendar in self.by_region.items()},
            "by_site": {key: calendar.name for key, calendar in self.by_site.items()},
        }


def _restore(
    default: BusinessCalendar,
    by_region: Mapping[str, BusinessCalendar],
    by_site: Mapping[str, BusinessCalendar],
) -> CalendarSet:
    return CalendarSet(default=default, by_region=by_region, by_site=by_site)


def _factorized(values: Labels) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.str_]]:
    """Codes and names of a column of labels; a missing label gets code -1."""
    text = _as_text(values).ravel()
    names, codes = np.unique(text, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    codes[text == ""] = -1
    return codes, names


def _codes(
    values: npt.ArrayLike, size: int, *, path: str, allow_none: bool = True
) -> npt.NDArray[np.int64]:
    """Integer codes into a dictionary of ``size`` names (``-1``: none, when allowed)."""
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise ValidationError.single(path, f"an array of dtype {array.dtype}", "integer codes")
    codes = array.astype(np.int64)
    low = -1 if allow_none else 0
    bad = (codes < low) | (codes >= size)
    if bad.any():
        raise invalid_positions(path, codes, bad, f"a code from {low} to {size - 1}")
    return codes


def _relocated(
    error: ValidationError, rows: npt.NDArray[np.intp], shape: tuple[int, ...]
) -> ValidationError:
    """The error of one calendar's pass, with positions pointing at the caller's elements."""
    moved = []
    for field in error.errors:
        name, bracket, rest = field.path.partition("[")
        if bracket and rest.rstrip("]").isdigit():
            position = np.unravel_index(rows[int(rest.rstrip("]"))], shape)
            where = ", ".join(str(int(i)) for i in position)
            moved.append(attrs.evolve(field, path=f"{name}[{where}]"))
        else:
            moved.append(field)
    return type(error)(moved, title=error.title)
