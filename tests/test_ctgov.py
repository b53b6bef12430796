"""ClinicalTrials.gov study records in: drafts of new trials, refreshes of encoded ones, and the
eligibility text split into statements. Records are written here in the API v2 shape
(`tests/fixtures/ctgov/` holds one for each catalogue study, its eligibility text made of the
encoded criteria's verbatim texts)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.engine.criteria import load_trial
from trialmatch.engine.draft import draft
from trialmatch.engine.refresh import normalised
from trialmatch.errors import InputError
from trialmatch.io.ctgov import Record, read_record, split_eligibility
from trialmatch.model.vocab import Vocabulary

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "ctgov"
CATALOGUE = sorted(p.stem for p in FIXTURES.glob("*.json"))
runner = CliRunner()


def record(**modules: Any) -> dict[str, Any]:
    """A minimal valid study record; keyword arguments replace or add protocol modules."""
    base: dict[str, Any] = {
        "identificationModule": {"nctId": "NCT09999999", "briefTitle": "A test study"},
        "statusModule": {"overallStatus": "RECRUITING"},
        "conditionsModule": {"conditions": ["Multiple Myeloma"]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Adults\n"},
    }
    for name, value in modules.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return {"protocolSection": base}


def write(tmp_path: Path, data: Any, name: str = "study.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def run(*args: str) -> Any:
    return runner.invoke(app, ["import", "ctgov", *args])


def texts(trial: Any, section: str) -> list[str]:
    return [c.text for c in getattr(trial, section)]


# ------------------------------------------------------------------------------------------
# The five catalogue studies


@pytest.mark.parametrize("nct", CATALOGUE)
def test_catalogue_record_drafts_a_valid_file_with_every_statement(nct: str,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / f"{nct}.yaml"
    result = run(str(FIXTURES / f"{nct}.json"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}:" in result.output and "need review" in result.output
    drafted = load_trial(out).trial
    encoded = load_trial(ROOT / "criteria" / f"{nct}.yaml").trial
    assert drafted.id == encoded.id and drafted.type == encoded.type
    assert drafted.status == encoded.status and drafted.phase == encoded.phase
    assert drafted.sponsor == encoded.sponsor
    vocab = Vocabulary.default()
    assert {vocab.condition_id(c) for c in drafted.conditions} == {
        vocab.condition_id(c) for c in encoded.conditions}
    for section in ("inclusion", "exclusion"):
        want = list(dict.fromkeys(texts(encoded, section)))
        got = [t for c, t in zip(getattr(drafted, section), texts(drafted, section), strict=True)
               if not c.id.startswith("registry-")]
        assert got == want  # verbatim, in order, one criterion per statement
        for c in getattr(drafted, section):
            if not c.id.startswith("registry-"):
                assert c.rule is None and c.manual  # needs review until encoded
    age = next(c for c in drafted.inclusion if c.id == "registry-min-age")
    assert age.rule is not None and age.rule.model_dump()["age"]["at_least"] == 18


@pytest.mark.parametrize("nct", CATALOGUE)
def test_update_of_an_encoded_trial_from_its_own_record_changes_nothing(nct: str,
                                                                        tmp_path: Path) -> None:
    target = tmp_path / f"{nct}.yaml"
    original = (ROOT / "criteria" / f"{nct}.yaml").read_bytes()
    target.write_bytes(original)
    result = run(str(FIXTURES / f"{nct}.json"), "--update", str(target))
    assert result.exit_code == 0, result.output
    assert "metadata up to date" in result.output
    assert "no longer appears" not in result.output
    assert target.read_bytes() == original


def test_update_rewrites_only_the_registry_metadata_and_reports_lost_texts(
    tmp_path: Path,
) -> None:
    nct = "NCT02538198"
    data = json.loads((FIXTURES / f"{nct}.json").read_text(encoding="utf-8"))
    section = data["protocolSection"]
    section["statusModule"]["overallStatus"] = "COMPLETED"
    section["designModule"]["phases"] = ["PHASE2", "PHASE3"]
    section["conditionsModule"]["conditions"] = ["Multiple Myeloma", "Myelodysplastic Syndromes"]
    elig = section["eligibilityModule"]
    elig["eligibilityCriteria"] = elig["eligibilityCriteria"].replace(
        "* who've had prior treatment\n", "") + "* A statement new to the record\n"
    study = write(tmp_path, data)
    target = tmp_path / f"{nct}.yaml"
    original = (ROOT / "criteria" / f"{nct}.yaml").read_text(encoding="utf-8")
    target.write_text(original, encoding="utf-8")
    result = run(str(study), "--update", str(target))
    assert result.exit_code == 0, result.output
    assert "status: recruiting -> completed" in result.output
    assert "phase: 2 -> 2/3" in result.output
    assert "conditions: multiple myeloma -> Multiple Myeloma, Myelodysplastic Syndromes" in (
        result.output)
    line = next(i for i, t in enumerate(original.splitlines(), 1) if "who've had prior" in t)
    assert f"{target}:{line}:5: inc-prior-treatment: its source text no longer appears" in (
        result.output)
    assert "A statement new to the record" in result.output  # no criterion quotes it
    new = target.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(original.splitlines(), new.splitlines(), strict=True)
               if a != b]
    assert [b for _, b in changed] == [
        'phase: "2/3"', "status: completed",
        "conditions: [Multiple Myeloma, Myelodysplastic Syndromes]"]
    before, after = load_trial(ROOT / "criteria" / f"{nct}.yaml").trial, load_trial(target).trial
    assert before.inclusion == after.inclusion and before.exclusion == after.exclusion
    assert before.notes == after.notes and before.status_note == after.status_note


def test_update_refuses_a_record_of_another_trial(tmp_path: Path) -> None:
    target = tmp_path / "t.yaml"
    target.write_bytes((ROOT / "criteria" / "NCT01673308.yaml").read_bytes())
    result = run(str(FIXTURES / "NCT02538198.json"), "--update", str(target))
    assert result.exit_code == 2
    assert "this file encodes NCT01673308, the record is NCT02538198" in result.output
    assert target.read_bytes() == (ROOT / "criteria" / "NCT01673308.yaml").read_bytes()


# ------------------------------------------------------------------------------------------
# Edge cases of records


def drafted(tmp_path: Path, data: Any, *extra: str) -> tuple[Any, Any]:
    out = tmp_path / "draft.yaml"
    result = run(str(write(tmp_path, data)), "-o", str(out), *extra)
    assert result.exit_code == 0, result.output
    return load_trial(out).trial, result


def test_no_eligibility_text_gives_the_registry_limits_only(tmp_path: Path) -> None:
    trial, result = drafted(tmp_path, record(eligibilityModule={
        "sex": "FEMALE", "minimumAge": "18 Years", "maximumAge": "75 Years"}))
    assert "no eligibility text" in result.output
    assert [c.id for c in trial.inclusion] == ["registry-min-age", "registry-max-age",
                                               "registry-sex"]
    assert trial.exclusion == []
    rules = {c.id: c.rule.model_dump() for c in trial.inclusion if c.rule is not None}
    assert rules["registry-max-age"] == {"age": {"at_most": 75.0, "at_least": None,
                                                 "more_than": None, "less_than": None}}
    assert rules["registry-sex"]["sex"]["one_of"] == ["female"]


def test_no_eligibility_module_at_all(tmp_path: Path) -> None:
    trial, result = drafted(tmp_path, record(eligibilityModule=None))
    assert trial.inclusion == [] and trial.exclusion == []
    assert "no eligibility text" in result.output


def test_only_inclusion(tmp_path: Path) -> None:
    text = "Inclusion Criteria:\n\n* Adults with myeloma\n* ECOG 0-2\n"
    trial, _ = drafted(tmp_path, record(eligibilityModule={"eligibilityCriteria": text}))
    assert texts(trial, "inclusion") == ["Adults with myeloma", "ECOG 0-2"]
    assert trial.exclusion == []


@pytest.mark.parametrize(("value", "rule"), [
    ("18 Years", {"at_least": 18}), ("1 Year", {"at_least": 1}), ("24 Months", {"at_least": 2}),
    ("6 Months", None), ("4 Weeks", None), ("30 Days", None), ("eighteen", None)])
def test_registry_ages_in_years_months_and_weeks(tmp_path: Path, value: str,
                                                 rule: dict[str, int] | None) -> None:
    trial, _ = drafted(tmp_path, record(eligibilityModule={"minimumAge": value}))
    crit = trial.inclusion[0]
    assert crit.id == "registry-min-age" and value in crit.text
    if rule is None:
        assert crit.rule is None and crit.manual  # never rounded into whole years
        assert "whole years" in crit.manual or "not a number of years" in crit.manual
    else:
        assert crit.rule is not None
        assert crit.rule.model_dump()["age"]["at_least"] == rule["at_least"]


def test_gender_based_eligibility_is_left_to_a_person(tmp_path: Path) -> None:
    trial, _ = drafted(tmp_path, record(eligibilityModule={
        "sex": "FEMALE", "genderBased": True, "genderDescription": "Self-identified women"}))
    crit = trial.inclusion[0]
    assert crit.id == "registry-sex" and crit.rule is None
    assert "Self-identified women" in crit.text and "gender identity" in (crit.manual or "")


def test_odd_bullets_headings_and_nesting(tmp_path: Path) -> None:
    text = (
        "Key Inclusion Criteria:\r\n"
        "1. Age ≥ 18 years\r\n"
        "2. Adequate organ function, defined as:\r\n"
        "   a. ANC ≥ 1.0 x 10^9/L\r\n"
        "   b. Creatinine clearance ≥ 30 mL/min, measured or\r\n"
        "      estimated by Cockcroft-Gault\r\n"
        "\r\n"
        "• Measurable disease\r\n"
        "\r\n"
        "KEY EXCLUSION CRITERIA\r\n"
        "\t- Prior allogeneic transplant\r\n"
        "\t- Active infection requiring\r\n"
        "\t  systemic therapy\r\n"
    )
    trial, _ = drafted(tmp_path, record(eligibilityModule={"eligibilityCriteria": text}))
    assert [(c.id, c.text) for c in trial.inclusion] == [
        ("inc-1", "Age ≥ 18 years"),
        ("inc-2", "Adequate organ function, defined as:"),
        ("inc-2.1", "ANC ≥ 1.0 x 10^9/L"),
        ("inc-2.2", "Creatinine clearance ≥ 30 mL/min, measured or estimated by Cockcroft-Gault"),
        ("inc-3", "Measurable disease"),
    ]
    assert "Its items follow as inc-2.1 to inc-2.2" in (trial.inclusion[1].note or "")
    assert trial.inclusion[2].note == "An item of inc-2."
    assert texts(trial, "exclusion") == ["Prior allogeneic transplant",
                                         "Active infection requiring systemic therapy"]


def test_heading_with_text_on_its_line_and_unheaded_paragraphs() -> None:
    text = ("Patients must have myeloma.\n\nInclusion Criteria: Age 18 or older\n"
            "* Signed consent\nExclusion criteria: none of the following\n* Pregnancy\n")
    got = [(s.section, s.number, s.text) for s in split_eligibility(text)]
    assert got == [("", "1", "Patients must have myeloma."),
                   ("inclusion", "1", "Age 18 or older"), ("inclusion", "2", "Signed consent"),
                   ("exclusion", "1", "none of the following"), ("exclusion", "2", "Pregnancy")]


def test_a_sentence_starting_with_inclusion_is_not_a_heading() -> None:
    text = "Inclusion criteria include adults over 18."
    assert [(s.section, s.text) for s in split_eligibility(text + "\n")] == [("", text)]


def test_unheaded_statements_say_so(tmp_path: Path) -> None:
    trial, _ = drafted(tmp_path, record(eligibilityModule={
        "eligibilityCriteria": "Adults with myeloma.\n\nNo prior lenalidomide.\n"}))
    assert [c.id for c in trial.inclusion] == ["txt-1", "txt-2"]
    assert all("no inclusion or exclusion heading" in (c.note or "") for c in trial.inclusion)


def test_non_ascii_markup_and_control_characters_survive_verbatim(tmp_path: Path) -> None:
    statement = "Hämoglobin ≥ 9 g/dL — 血红蛋白 [bold]x[/] µmol\x07"
    trial, _ = drafted(tmp_path, record(eligibilityModule={
        "eligibilityCriteria": f"Inclusion Criteria:\n* {statement}\n"}))
    assert trial.inclusion[0].text == statement


def test_a_statement_never_loses_text() -> None:
    text = "Inclusion Criteria:\n* a\n  continued\n    * nested\n  more of nested\n\ntail words\n"
    words = " ".join(s.text for s in split_eligibility(text)).split()
    for word in ("a", "continued", "nested", "more", "of", "tail", "words"):
        assert word in words


def test_a_long_text_splits_in_linear_time() -> None:
    text = "Inclusion Criteria:\n" + "".join(f"* statement {i}\n" for i in range(9_000))
    start = time.perf_counter()
    got = split_eligibility(text)
    assert len(got) == 9_000
    assert time.perf_counter() - start < 5


def test_more_statements_than_a_criteria_file_holds_is_a_located_error(tmp_path: Path) -> None:
    text = "Inclusion Criteria:\n" + "".join(f"* statement {i}\n" for i in range(20_000))
    out = tmp_path / "x.yaml"
    result = run(str(write(tmp_path, record(eligibilityModule={"eligibilityCriteria": text}))),
                 "-o", str(out))
    assert result.exit_code == 2
    assert "eligibilityModule.eligibilityCriteria: more than 10,000 statements" in result.output
    assert not out.exists()


def test_conditions_the_vocabulary_does_not_know_are_named(tmp_path: Path) -> None:
    data = record(conditionsModule={"conditions": ["Multiple Myeloma", "Frobnication"]})
    trial, result = drafted(tmp_path, data)
    assert trial.conditions == ["Multiple Myeloma"]
    assert "conditionsModule.conditions[1]: 'Frobnication' is not in the vocabulary" in (
        result.output)


def test_no_known_condition_needs_one_named(tmp_path: Path) -> None:
    data = record(conditionsModule={"conditions": ["Frobnication"]})
    result = run(str(write(tmp_path, data)))
    assert result.exit_code == 2
    assert "no condition the vocabulary knows; name one with --condition" in result.output
    trial, _ = drafted(tmp_path, data, "--condition", "multiple myeloma")
    assert trial.conditions == ["multiple myeloma"]


@pytest.mark.parametrize(("modules", "message"), [
    ({"designModule": None}, "designModule.studyType: missing"),
    ({"designModule": {"studyType": "EXPANDED_ACCESS"}}, "EXPANDED_ACCESS: trialmatch screens"),
    ({"identificationModule": None}, "identificationModule.nctId: missing"),
    ({"identificationModule": {"nctId": "NCT1"}}, "briefTitle: missing"),
    ({"conditionsModule": None}, "no condition the vocabulary knows"),
    ({"designModule": {"studyType": "INTERVENTIONAL", "phases": 3}},
     "designModule.phases: expected a list, found a number"),
    ({"statusModule": {"overallStatus": "AVAILABLE"}}, "expanded-access status"),
])
def test_missing_or_wrong_modules_are_located_errors(tmp_path: Path, modules: dict[str, Any],
                                                     message: str) -> None:
    out = tmp_path / "x.yaml"
    result = run(str(write(tmp_path, record(**modules))), "-o", str(out))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_missing_status_is_unknown_with_a_warning(tmp_path: Path) -> None:
    trial, result = drafted(tmp_path, record(statusModule=None))
    assert trial.status.value == "unknown"
    assert "overallStatus: missing" in result.output


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not JSON"),
    ("", "the file is empty"),
    ("[1, 2]", "not a ClinicalTrials.gov API v2 study record"),
    (json.dumps({"studies": []}), "expected exactly one study record, found 0"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_files_that_are_not_one_record(tmp_path: Path, content: str, message: str) -> None:
    result = run(str(write(tmp_path, content)))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_an_api_answer_with_one_study_is_read() -> None:
    data = {"studies": [record()]}
    assert read_record_from(data).study == record()


def read_record_from(data: Any) -> Record:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(data, fh)
    return read_record(fh.name)


def test_output_is_never_overwritten_without_force(tmp_path: Path) -> None:
    study = write(tmp_path, record())
    out = tmp_path / "NCT09999999.yaml"
    out.write_text("precious\n", encoding="utf-8")
    result = run(str(study), "-o", str(out))
    assert result.exit_code == 2 and "exists; refresh an encoded trial with --update" in (
        result.output)
    assert out.read_text(encoding="utf-8") == "precious\n"
    assert run(str(study), "-o", str(out), "--force").exit_code == 0
    assert load_trial(out).trial.id == "NCT09999999"
    assert run(str(study), "-o", str(study)).exit_code == 2  # never onto its input
    assert json.loads(study.read_text(encoding="utf-8")) == record()


def test_draft_on_standard_output_is_the_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "ctgov", str(write(tmp_path, record())), "-q"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Draft criteria for NCT09999999")


def test_draft_function_validates_what_it_writes() -> None:
    data = copy.deepcopy(record())
    data["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = "Inclusion:\n* x\n"
    result = draft(Record("s.json", data), Vocabulary.default())
    assert [c.id for c in result.trial.inclusion] == ["inc-1"]
    with pytest.raises(InputError):
        draft(Record("s.json", record(designModule=None)), Vocabulary.default())


def test_normalised_ignores_spacing_case_and_bullets() -> None:
    assert normalised("* Age  ≥ 18;") == normalised("age ≥ 18")
    assert normalised("ANC ≥ 1.5") != normalised("ANC ≥ 1.0")


# ------------------------------------------------------------------------------------------
# Coverage in show and validate


def test_validate_and_show_report_coverage(tmp_path: Path) -> None:
    out = tmp_path / "NCT01673308.yaml"
    assert run(str(FIXTURES / "NCT01673308.json"), "-o", str(out)).exit_code == 0
    result = runner.invoke(app, ["validate", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "1 of 19 criteria computable, 18 need review" in result.stdout  # age + 18 texts
    encoded = runner.invoke(app, ["validate", str(ROOT / "criteria" / "NCT01673308.yaml")],
                            env={"COLUMNS": "200"})
    assert "11 of 22 criteria computable, 2 partly computable, 9 need review" in encoded.stdout
    shown = runner.invoke(app, ["show", "NCT01673308"], env={"COLUMNS": "200"})
    assert "Coverage: 11 of 22 criteria computable, 2 partly computable, 9 need review" in (
        shown.stdout)


def test_update_keeps_comments_and_block_lists(tmp_path: Path) -> None:
    target = tmp_path / "t.yaml"
    target.write_text(
        "# curated by hand\nid: NCT09999999\ntitle: t\nregistry_id: NCT09999999\n"
        "type: interventional\nstatus: completed   # as published\nconditions:\n"
        "  - myelodysplastic syndrome\nsource: {document: d}\ninclusion:\n"
        "  - id: x\n    text: Adults\n    rule: {age: {at_least: 18}}\n", encoding="utf-8")
    result = run(str(write(tmp_path, record())), "--update", str(target))
    assert result.exit_code == 0, result.output
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# curated by hand"
    assert 'phase: "2"' in lines  # added after type: the file had none
    assert "status: recruiting   # as published" in lines
    at = lines.index("conditions:")
    assert lines[at + 1] == "  - Multiple Myeloma" and lines[at + 2].startswith("source:")
    trial = load_trial(target).trial
    assert trial.conditions == ["Multiple Myeloma"] and trial.inclusion[0].rule is not None


def test_markdown_escapes_of_the_api_are_read_as_the_registry_shows_them(tmp_path: Path) -> None:
    text = ("Inclusion Criteria:\n\n\\* Age \\>= 18 years\\.\n\\* Creatinine \\<= 2 mg/dL\n\n"
            "Exclusion Criteria:\n\n1\\. Prior \\[lenalidomide\\]\n")
    trial, _ = drafted(tmp_path, record(eligibilityModule={"eligibilityCriteria": text}))
    assert texts(trial, "inclusion") == ["Age >= 18 years.", "Creatinine <= 2 mg/dL"]
    assert texts(trial, "exclusion") == ["Prior [lenalidomide]"]
    target = tmp_path / "t.yaml"
    target.write_text((tmp_path / "draft.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    again = run(str(tmp_path / "study.json"), "--update", str(target))
    assert "no longer appears" not in again.output and "no criterion quotes" not in again.output


def test_heading_qualifiers_markdown_headings_and_empty_bullets() -> None:
    text = ("Inclusion criteria for part A:\n* Adults\n-\n* Hemoglobin >= 8 g/dL\\\n"
            "  (transfusion allowed)\n\n## Laboratory values\n* ANC >= 1\n\n"
            "Inclusion criteria for part B:\n* Children\n")
    got = [(s.text, s.heading) for s in split_eligibility(text)]
    assert got == [("Adults", "Inclusion criteria for part A"),
                   ("Hemoglobin >= 8 g/dL (transfusion allowed)", "Inclusion criteria for part A"),
                   ("ANC >= 1", "Laboratory values"),
                   ("Children", "Inclusion criteria for part B")]


def test_update_reports_a_changed_lead_in(tmp_path: Path) -> None:
    text = "Inclusion Criteria:\n* At least 2 of:\n  * anemia\n  * bone lesions\n"
    data = record(eligibilityModule={"eligibilityCriteria": text})
    trial, _ = drafted(tmp_path, data)
    assert [c.id for c in trial.inclusion] == ["inc-1", "inc-1.1", "inc-1.2"]
    target = tmp_path / "t.yaml"
    target.write_text((tmp_path / "draft.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    data["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = text.replace("2", "1")
    result = run(str(write(tmp_path, data)), "--update", str(target))
    assert "inc-1: its source text no longer appears in the record" in result.output
    assert "inclusion 1: At least 1 of:" in result.output


def test_update_keeps_conditions_on_request_and_flags_a_stale_status_note(
    tmp_path: Path,
) -> None:
    nct = "NCT02538198"
    data = json.loads((FIXTURES / f"{nct}.json").read_text(encoding="utf-8"))
    data["protocolSection"]["statusModule"] = {"overallStatus": "UNKNOWN",
                                               "lastKnownStatus": "ACTIVE_NOT_RECRUITING"}
    data["protocolSection"]["conditionsModule"]["conditions"] = ["Myelodysplastic Syndromes"]
    target = tmp_path / f"{nct}.yaml"
    original = (ROOT / "criteria" / f"{nct}.yaml").read_text(encoding="utf-8")
    target.write_text(original, encoding="utf-8")
    result = run(str(write(tmp_path, data)), "--update", str(target), "--keep-conditions")
    assert result.exit_code == 0, result.output
    assert "kept multiple myeloma (--keep-conditions)" in result.output
    assert "status_note may no longer hold now that the status is unknown" in result.output
    assert "Last known status in the registry: ACTIVE_NOT_RECRUITING" in result.output
    assert load_trial(target).trial.conditions == ["multiple myeloma"]


def test_a_device_is_written_in_place(tmp_path: Path) -> None:
    result = run(str(write(tmp_path, record())), "-o", "/dev/null")
    assert result.exit_code == 0, result.output


def test_unknown_conditions_are_kept_in_the_notes(tmp_path: Path) -> None:
    data = record(conditionsModule={"conditions": ["Multiple Myeloma", "Frobnication"]})
    trial, result = drafted(tmp_path, data)
    assert "--condition TERM" in result.output
    assert any("not in the vocabulary, left out of conditions: Frobnication" in n
               for n in trial.notes)
