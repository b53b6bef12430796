"""Run the usage examples in docstrings of the installed package."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["trialmatch.errors", "trialmatch.yamlio", "trialmatch.vocab", "trialmatch.patient",
           "trialmatch.predicates", "trialmatch.results", "trialmatch.engine",
           "trialmatch.listing", "trialmatch.showing", "trialmatch.validation",
           "trialmatch.data_warnings",
           "trialmatch.report.json_report", "trialmatch.report.markdown",
           "trialmatch.contract", "trialmatch.wrapping", "trialmatch.schemas",
           "trialmatch.report.screen_jsonl", "trialmatch.report.steps",
           "trialmatch.report.table"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
