"""Canonical JSON: the one text form of payloads and of the records the hash chain covers.

Keys sorted, no whitespace, UTF-8 without escaping non-ASCII characters, no NaN or infinity: exactly
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``.
Two equal values always have the same canonical text, so texts can be compared and hashed.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

__all__ = ["canonical_json", "canonical_string"]

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _not_json(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _c_encoder() -> Callable[[Any], str] | None:
    # ``JSONEncoder.encode`` builds a new C encoder on every call, which costs more than encoding a
    # small payload; the log encodes one per event, so it builds the C encoder once. The arguments
    # mirror what ``JSONEncoder.iterencode`` passes (markers=None: values are plain trees).
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the accelerator
        return None
    encode = make(
        None, _not_json, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )

    def canonical(value: Any) -> str:
        return "".join(encode(value, 0))

    return canonical


canonical_json: Callable[[Any], str] = _c_encoder() or _ENCODER.encode
"""The canonical JSON text of plain data."""

canonical_string: Callable[[str], str] = json.encoder.encode_basestring
"""The canonical JSON text of one string (quoted and escaped), as ``canonical_json`` writes it."""
