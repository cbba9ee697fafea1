"""Readers shared by every definition loaded from data: taxonomies, status maps, lifecycles, calendars.

Each ``from_json`` reads the document here, so a malformed file gets the same error everywhere, and
each ``from_data`` reports unknown keys the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from servicedelivery.errors import DefinitionError, FieldError

__all__ = ["read_json", "unknown_keys"]


def read_json(text: str) -> object:
    """A definition's JSON document as plain data.

    Raises:
        DefinitionError: The text is not JSON; the message says where it stopped making sense.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionError.single("", text[:40], f"a JSON document ({error})") from None


def unknown_keys(data: Mapping[Any, Any], known: tuple[str, ...]) -> list[FieldError]:
    """An error for every key of a definition's data that is not one of ``known``."""
    expected = f"no such key; expected one of {', '.join(known)}"
    return [FieldError(str(key), data[key], expected) for key in data if key not in known]
