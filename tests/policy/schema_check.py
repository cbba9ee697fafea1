"""A small structural JSON Schema checker: the keywords ``policy_json_schema`` uses, no more."""

from __future__ import annotations

import re
from typing import Any

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
}

KEYWORDS = frozenset(
    {
        *("$ref", "oneOf", "type", "const", "enum", "minLength", "pattern", "minimum", "maximum"),
        *("exclusiveMinimum", "minItems", "items", "required", "minProperties", "properties"),
        "additionalProperties",
    }
)
"""The keywords :func:`problems` reads; it would pass over any other without checking it."""

ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
"""Keywords that constrain nothing (``$defs`` is reached through ``$ref``)."""


def problems(schema: dict[str, Any], value: Any, root: dict[str, Any], path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty when it conforms)."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return problems(target, value, root, path)
    found: list[str] = []
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not problems(s, value, root, path)]
        if len(matching) != 1:
            found.append(f"{path}: matches {len(matching)} of oneOf")
        return found
    kind = schema.get("type")
    if kind is not None:
        expected = _TYPES[kind]
        if not isinstance(value, expected) or isinstance(value, bool):
            return [f"{path}: not {kind}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: not in enum")
    found += _scalars(schema, value, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{path}: too few items")
        if "items" in schema:
            for index, item in enumerate(value):
                found += problems(schema["items"], item, root, f"{path}[{index}]")
    if isinstance(value, dict):
        found += _object(schema, value, root, path)
    return found


def _scalars(schema: dict[str, Any], value: Any, path: str) -> list[str]:
    found = []
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: too short")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            found.append(f"{path}: does not match {schema['pattern']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: above maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            found.append(f"{path}: not above exclusiveMinimum")
    return found


def _object(
    schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any], path: str
) -> list[str]:
    found: list[str] = []
    found += [f"{path}.{key}: required" for key in schema.get("required", ()) if key not in value]
    if len(value) < schema.get("minProperties", 0):
        found.append(f"{path}: too few properties")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key in properties:
            found += problems(properties[key], item, root, where)
        elif extra is False:
            found.append(f"{where}: not allowed")
        elif isinstance(extra, dict):
            found += problems(extra, item, root, where)
    return found
