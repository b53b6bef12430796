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

from trialmatch.engine.criteria import load_catalogue
from trialmatch.engine.evaluate import evaluate_trial
from trialmatch.io.yamlio import load_document
from trialmatch.model.patient import Patient

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


# ------------------------------------------------------------------------------------------
# The same cases through the columnar (batch) engine


def _columnar_codes(
    trial_id: str, day: dt.date, rows: list[dict[str, str]]
) -> tuple[list[dict[str, int]], list[bool]]:
    """Per row: the columnar engine's verdict code per criterion id, and whether the row was
    handed to the reference path (an unusual cell) instead of being evaluated column-wise."""
    import polars as pl

    from trialmatch.batch.plan import Plan
    from trialmatch.columnar.typed import type_batch
    from trialmatch.model.csvlayout import parse_header
    from trialmatch.model.vocab import Vocabulary

    vocab = Vocabulary.default()
    columns = ["id", *sorted({c for r in rows for c in r} - {"id"})]
    header = parse_header(columns, vocab.labs)
    raw = pl.DataFrame(
        {c: [r.get(c) or None for r in rows] for c in columns},
        schema={c: pl.Utf8 for c in columns},
    )
    plan = Plan([TRIALS[trial_id].trial], header, vocab, day)
    typed, unusual = type_batch(raw, header, plan.typing)
    typed = typed.with_columns(pl.Series("row", range(1, len(rows) + 1), dtype=pl.Int64))
    codes = plan.run(typed)
    prefix = f"{trial_id}/"
    out = []
    for rec in codes.iter_rows(named=True):
        out.append(
            {k.split(":", 1)[1]: v for k, v in rec.items() if k.startswith(prefix) and ":" in k}
        )
    return out, unusual.to_list()


CODE_OF = {"not_met": 0, "met": 1, "unknown": 2, "needs_review": 3}


@pytest.mark.parametrize("trial_id", sorted(TRIALS))
def test_scenarios_in_the_columnar_engine(trial_id: str) -> None:
    """Every scenario case, exported as a CSV row, gets the same verdict for every criterion
    from the columnar engine as from the per-patient engine (cases the CSV layout cannot hold
    are listed; none may be silently skipped)."""
    from trialmatch.model.csvrow import patient_to_row

    cases = [p for p in CASES if p.values[0] == trial_id]
    day_raw = cases[0].values[1]
    day = day_raw if isinstance(day_raw, dt.date) else dt.date.fromisoformat(str(day_raw))
    rows, names, expected = [], [], []
    not_exportable = []
    for p in cases:
        case = p.values[2]
        patient = _patient(case)
        try:
            rows.append(patient_to_row(patient, day))
        except ValueError as exc:
            not_exportable.append((case["name"], str(exc)))
            continue
        names.append(case["name"])
        result = evaluate_trial(TRIALS[trial_id], patient, day)
        expected.append({c.criterion_id: CODE_OF[c.verdict.value] for c in result.criteria})
    got, unusual = _columnar_codes(trial_id, day, rows)
    # Rows with an unusual cell would be judged by the reference path: none here.
    assert not any(unusual), [n for n, u in zip(names, unusual, strict=True) if u]
    wrong = {
        name: {cid: (want[cid], have[cid]) for cid in want if want[cid] != have[cid]}
        for name, want, have in zip(names, expected, got, strict=True)
        if want != have
    }
    assert not wrong, f"(reference, columnar) codes differ: {wrong}"
    assert len(not_exportable) <= 2, not_exportable
