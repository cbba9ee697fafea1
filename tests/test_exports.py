"""The public API is exactly what each package's ``__all__`` says, and nothing leaks by accident."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import servicedelivery

PUBLIC_PACKAGES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(servicedelivery.__path__, "servicedelivery.")
    if not any(part.startswith("_") for part in name.split("."))
)


def test_public_packages_are_found() -> None:
    assert "servicedelivery.model" in PUBLIC_PACKAGES
    assert "servicedelivery.errors" in PUBLIC_PACKAGES


@pytest.mark.parametrize("name", ["servicedelivery", *PUBLIC_PACKAGES])
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    for export in exported:
        assert hasattr(module, export), f"{name}.__all__ names {export!r}, which does not exist"
    if not hasattr(module, "__path__"):
        return  # a plain module may import helpers it does not export
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and not inspect.ismodule(value)
    }
    assert public == exported - {"__version__"}


@pytest.mark.parametrize("name", ["servicedelivery", *PUBLIC_PACKAGES])
def test_all_has_no_duplicates(name: str) -> None:
    module = importlib.import_module(name)
    assert len(module.__all__) == len(set(module.__all__))


def test_version_is_exposed() -> None:
    assert isinstance(servicedelivery.__version__, str)
    assert servicedelivery.__version__
