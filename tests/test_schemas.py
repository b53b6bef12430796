"""`trialmatch schema`: JSON Schemas generated from the models accept every example file and
every JSON output, accept the shorthands the loaders accept, and reject what they reject."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema  # the `test` extra
import pytest

from trialmatch.engine.criteria import Trial, trial_from_document
from trialmatch.errors import InputError
from trialmatch.io.yamlio import load_document, parse_yaml
from trialmatch.model.patient import Patient, load_patient, patient_from_document
from trialmatch.model.vocab import Vocabulary

from .conftest import AS_OF, CRITERIA, PATIENTS

EXAMPLES = sorted(PATIENTS.glob("*.yaml"))
CRITERIA_FILES = sorted(CRITERIA.glob("*.yaml"))


def as_editor_sees(value: Any) -> Any:
    """YAML data as a YAML language server hands it to a JSON Schema: dates are strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_editor_sees(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_editor_sees(v) for v in value]
    return value


_VALIDATORS: dict[str, Any] = {}


def validator(cli, name: str) -> Any:
    if name not in _VALIDATORS:
        run = cli(["schema", name])
        assert run.code == 0, run.stderr
        schema = json.loads(run.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATORS[name] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker()
        )
    return _VALIDATORS[name]


def errors(cli, name: str, data: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}"
            for e in validator(cli, name).iter_errors(data)]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 10 and len(CRITERIA_FILES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_patient_matches_the_schema(cli, path: Path) -> None:
    assert errors(cli, "patient", as_editor_sees(load_document(path).data)) == []


@pytest.mark.parametrize("path", CRITERIA_FILES, ids=lambda p: p.name)
def test_every_criteria_file_matches_the_schema(cli, path: Path) -> None:
    assert errors(cli, "criteria", as_editor_sees(load_document(path).data)) == []


def _patient_ok(text: str) -> bool:
    try:
        patient_from_document(parse_yaml(text, "p.yaml"))
    except InputError:
        return False
    return True


@pytest.mark.parametrize("text", [
    "id: P1\necog: 1\n",
    "id: P1\necog: {value: 0, date: 2026-11-10}\n",
    "id: P1\nconditions: []\n",
    "id: P1\nconditions: {complete: false, items: [{condition: HIV, status: absent}]}\n",
    "id: P1\ntherapies:\n  - {drugs: [azacitidine], start: 2024-04-08}\n",
    "id: P1\ndiagnoses:\n  - {condition: MDS, findings: [del(5q), {name: TP53, present: false}]}\n",
], ids=["ecog_plain", "ecog_dated", "empty_list", "partial_list", "plain_list", "findings"])
def test_schema_accepts_the_shorthands_the_loader_accepts(cli, text: str) -> None:
    assert _patient_ok(text)
    data = as_editor_sees(parse_yaml(text, "p.yaml").data)
    assert errors(cli, "patient", data) == []


@pytest.mark.parametrize("text", [
    'id: P1\necog: "1"\n',
    "id: P1\necog: 7\n",
    "id: P1\necog: {value: 7}\n",
    "id: P1\necgo: 1\n",
    "id: P1\nconditions: none\n",
    "id: P1\nconditions: {items: [], complete: maybe}\n",
    "id: P1\nsex: F\n",
    "id: P1\nbirth_date: 01/02/1950\n",
    "id: P1\nlabs: [{name: creatinine, value: -1, unit: mg/dL}]\n",
    "sex: female\n",
], ids=["ecog_text", "ecog_7", "ecog_value_7", "misspelt_field", "list_as_text",
        "complete_not_bool", "sex_letter", "date_not_iso", "negative_lab", "no_id"])
def test_schema_rejects_what_the_loader_rejects(cli, text: str) -> None:
    assert not _patient_ok(text)
    data = as_editor_sees(parse_yaml(text, "p.yaml").data)
    assert errors(cli, "patient", data) != []


def test_criteria_schema_takes_a_numeric_phase_as_the_loader_does(cli) -> None:
    text = (CRITERIA / "NCT01673308.yaml").read_text("utf-8")
    data = as_editor_sees(parse_yaml(text, "t.yaml").data)
    assert data["phase"] == "2"
    assert errors(cli, "criteria", {**data, "phase": 2}) == []
    assert trial_from_document(parse_yaml(text.replace('phase: "2"', "phase: 2"), "t.yaml"),
                               Vocabulary.default()).phase is not None
    assert errors(cli, "criteria", {**data, "phase": 5}) != []
    assert errors(cli, "criteria", {**data, "inclusion": [{"id": "x", "text": "t",
                                                            "rule": {"ecgo": {}}}]}) != []


def test_schemas_are_generated_from_the_models(cli) -> None:
    patient = json.loads(cli(["schema", "patient"]).stdout)
    assert set(patient["properties"]) == set(Patient.model_fields)
    assert patient["additionalProperties"] is False
    trial = json.loads(cli(["schema", "criteria"]).stdout)
    assert set(trial["properties"]) == set(Trial.model_fields)
    for name in ("patient", "criteria", "report", "screen", "trials"):
        schema = json.loads(cli(["schema", name]).stdout)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"].startswith("trialmatch ")


def test_unknown_schema_name_exits_2(cli) -> None:
    run = cli(["schema", "patients"])
    assert run.code == 2
    assert "'patients' is not one of 'patient', 'criteria', 'report'" in run.stderr


# -- JSON output ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_report_matches_the_report_schema(cli, path: Path) -> None:
    run = cli(["check", str(path), "--as-of", AS_OF, "--format", "json"])
    assert run.code == 0, run.stderr
    assert errors(cli, "report", json.loads(run.stdout)) == []


def test_report_schema_is_exact(cli) -> None:
    run = cli(["check", str(EXAMPLES[0]), "--as-of", AS_OF, "--format", "json"])
    data = json.loads(run.stdout)
    assert errors(cli, "report", {**data, "extra": 1}) != []
    assert errors(cli, "report", {**data, "schema_version": "2.0"}) != []
    assert errors(cli, "report", {**data, "schema_version": "1.7"}) == []  # minor: additive
    trial = data["trials"][0]
    renamed = {**trial, "review": trial["needs_review"]}
    del renamed["needs_review"]
    assert errors(cli, "report", {**data, "trials": [renamed]}) != []


def test_several_patients_report_matches_the_report_schema(cli) -> None:
    run = cli(["check", *map(str, EXAMPLES[:3]), "--as-of", AS_OF, "--format", "json"])
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert len(data["reports"]) == 3
    assert errors(cli, "report", data) == []
    assert errors(cli, "report", {**data, "reports": [{"patient_id": "x"}]}) != []
    # The next steps name every open trial's checks.
    steps = [s for r in data["reports"] for s in r["next_steps"]]
    for r in data["reports"]:
        for t in r["trials"]:
            open_trial = t["verdict"] == "possibly_eligible"
            assert open_trial == any(s["trial_id"] == t["trial_id"] for s in r["next_steps"])
    assert all(c["verdict"] in ("unknown", "needs_review") for s in steps for c in s["checks"])


def _example_csv(tmp_path: Path, extra: list[dict[str, str]] | None = None) -> Path:
    from trialmatch.model.csvrow import patient_to_row

    rows = [patient_to_row(load_patient(p), dt.date.fromisoformat(AS_OF)) for p in EXAMPLES]
    rows += extra or []
    columns = ["id", *sorted({c for r in rows for c in r} - {"id"})]
    path = tmp_path / "patients.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in columns} for r in rows)
    return path


def test_screen_json_and_every_jsonl_line_match_the_screen_schema(cli, tmp_path: Path) -> None:
    src = _example_csv(tmp_path, [{"id": "BAD-1", "sex": "F"}])
    document = cli(["screen", str(src), "--as-of", AS_OF, "--format", "json"])
    assert document.code == 0, document.stderr
    data = json.loads(document.stdout)
    assert errors(cli, "screen", data) == []
    assert any(r["verdict"] == "error" for r in data["records"])
    lines = cli(["screen", str(src), "--as-of", AS_OF, "--format", "jsonl"])
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(records) == len(data["records"])
    for record in records:
        assert errors(cli, "screen", record) == []
        assert {k: v for k, v in record.items() if k != "schema_version"} in data["records"]
    assert errors(cli, "screen", {**records[0], "needs_review": 3}) != []  # a list, not a count


def test_screen_and_check_name_the_same_criteria(cli, tmp_path: Path) -> None:
    """The same patient gives the same id lists, under the same names, in both commands."""
    src = _example_csv(tmp_path)
    run = cli(["screen", str(src), "--as-of", AS_OF, "--format", "jsonl"])
    records = [json.loads(line) for line in run.stdout.splitlines()]
    for number, path in enumerate(EXAMPLES, start=1):
        report = json.loads(cli(["check", str(path), "--as-of", AS_OF, "-f", "json"]).stdout)
        for trial in report["trials"]:
            (record,) = [r for r in records
                         if r["row"] == number and r["trial_id"] == trial["trial_id"]]
            assert record["patient_id"] == report["patient_id"]
            for key in ("verdict", "failed", "unknown", "needs_review"):
                assert record[key] == trial[key], (path.name, trial["trial_id"], key)


@pytest.mark.parametrize("options", [[], ["--condition", "C90.0"], ["--status", "withdrawn"]])
def test_trials_json_matches_the_trials_schema(cli, options: list[str]) -> None:
    run = cli(["trials", *options, "--format", "json"])
    assert run.code == 0, run.stderr
    assert errors(cli, "trials", json.loads(run.stdout)) == []
