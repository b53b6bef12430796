"""Shared helpers of the predicate tests: build a patient and a one-leaf rule, evaluate it on a
fixed screening date, check the verdict (an unknown must name what is missing)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from trialmatch.engine.criteria import Criterion
from trialmatch.engine.evaluate import evaluate_rule
from trialmatch.model.patient import Patient
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.context import Context

AS_OF = date(2026, 11, 21)


MET, NOT_MET, UNKNOWN, REVIEW = (Verdict.met, Verdict.not_met, Verdict.unknown,
                                 Verdict.needs_review)


def rule(spec: dict[str, Any]) -> Any:
    """A validated rule node from its YAML-shaped mapping."""
    return Criterion.model_validate({"id": "x", "text": "t", "rule": spec}).rule


def evaluate(spec: dict[str, Any], as_of: date = AS_OF, **patient: Any) -> Evidence:
    """Evaluate a one-leaf rule for a patient built from keyword fields; return its evidence."""
    patient.setdefault("id", "P1")
    ctx = Context(patient=Patient.model_validate(patient), as_of=as_of,
                  vocab=Vocabulary.default())
    outcome = evaluate_rule(rule(spec), ctx)
    assert len(outcome.leaves) == 1
    evidence = outcome.leaves[0]
    assert evidence.verdict is outcome.verdict
    return evidence


def check(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict,
          as_of: date = AS_OF) -> Evidence:
    """Evaluate and assert the verdict; unknown verdicts must name what is missing."""
    evidence = evaluate(spec, as_of=as_of, **patient)
    assert evidence.verdict is expected, evidence.sentence
    if expected is UNKNOWN:
        assert evidence.missing, f"unknown without a missing item: {evidence.sentence}"
    else:
        assert evidence.missing == (), evidence.missing
    assert evidence.sentence
    return evidence


def case(case_id: str, spec: dict[str, Any], patient: dict[str, Any], expected: Verdict,
         **kw: Any) -> Any:
    """A readable parametrize entry."""
    return pytest.param(spec, patient, expected, id=case_id, **kw)


def missing_text(evidence: Evidence) -> str:
    return " | ".join(evidence.missing).lower()


def lab(name: str, value: float, unit: str, day: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "date": day, **kw}


def course(*drugs: str, **kw: Any) -> dict[str, Any]:
    return {"drugs": list(drugs), **kw}


def inclusive_end(start: date, days: int) -> date:
    """The end date of a course covering ``days`` calendar days, start and end included."""
    return start + timedelta(days=days - 1)


def dx(**kw: Any) -> dict[str, Any]:
    return {"diagnoses": [kw]}


def status(response: str, **kw: Any) -> dict[str, Any]:
    return {"disease_status": {"response": response, **kw}}


PARTIAL = {"complete": False}
