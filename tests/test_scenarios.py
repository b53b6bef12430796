"""Scenario files (tests/scenarios/*.yaml): a patient, a trial and the expected verdicts.

Each case runs as its own test with its name as id, so ``pytest -k mds_creatinine_in_umol``
runs one case. A case may patch top-level patient fields; ``null`` removes a field.
Files are read with trialmatch's own YAML loader (``on``/``no`` stay strings).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from trialmatch.criteria import load_catalogue
from trialmatch.engine import evaluate_trial
from trialmatch.patient import Patient
from trialmatch.yamlio import load_document

from .conftest import CRITERIA, ROOT

SCENARIOS = ROOT / "tests" / "scenarios"


def _cases() -> list[Any]:
    out = []
    for f in sorted(SCENARIOS.glob("*.yaml")):
        doc = load_document(f).data
        for case in doc["cases"]:
            out.append(pytest.param(doc["trial"], doc["as_of"], case, id=case["name"]))
    return out


CASES = _cases()
TRIALS = {t.trial.id: t for t in load_catalogue(CRITERIA)}


def _patient(case: dict[str, Any]) -> Patient:
    data = dict(load_document(ROOT / case["patient"]).data)
    for key, value in (case.get("patch") or {}).items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return Patient.model_validate(data)


def test_scenarios_exist_for_every_trial() -> None:
    covered = {p.values[0] for p in CASES}
    assert covered == set(TRIALS), f"trials without scenarios: {set(TRIALS) - covered}"


def test_scenario_names_are_unique() -> None:
    names = [p.id for p in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("trial_id", "as_of", "case"), CASES)
def test_scenario(trial_id: str, as_of: Any, case: dict[str, Any]) -> None:
    day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    result = evaluate_trial(TRIALS[trial_id], _patient(case), day)
    got = {c.criterion_id: c.verdict.value for c in result.criteria}
    expected = case["expect"].get("criteria", {})
    unknown_ids = set(expected) - set(got)
    assert not unknown_ids, f"scenario names criteria the trial lacks: {unknown_ids}"
    wrong = {cid: (want, got[cid]) for cid, want in expected.items() if got[cid] != want}
    reasons = {
        cid: next(c.reason for c in result.criteria if c.criterion_id == cid) for cid in wrong
    }
    assert not wrong, f"(expected, got): {wrong}; reasons: {reasons}"
    if "trial" in case["expect"]:
        assert result.verdict.value == case["expect"]["trial"]


def test_scenario_paths_are_relative_to_repo() -> None:
    for p in CASES:
        assert (ROOT / Path(p.values[2]["patient"])).is_file(), p.values[2]["patient"]
