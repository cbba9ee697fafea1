"""Placeholder package: filled by its issue; see docs/index.md for what exists today."""

__all__: list[str] = []
