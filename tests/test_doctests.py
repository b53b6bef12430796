"""Run the usage examples in docstrings of the installed package."""

from __future__ import annotations

import doctest
import importlib

import pytest


def _modules() -> list[str]:
    """Every module of the package: a new module's examples run without being listed."""
    import pkgutil

    import trialmatch

    found = pkgutil.walk_packages(trialmatch.__path__, "trialmatch.")
    return sorted(m.name for m in found if m.name != "trialmatch.__main__")  # runs the CLI


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
