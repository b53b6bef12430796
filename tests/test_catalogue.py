"""The shipped catalogue: every study encoded faithfully, listed by condition, shown, and
exercised by example patients."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from trialmatch.engine.criteria import catalogue_dir, coverage, load_catalogue
from trialmatch.engine.evaluate import evaluate_trial
from trialmatch.model.patient import load_patient
from trialmatch.report.listing import ListingError, find_trials

from .conftest import AS_OF, CRITERIA, PATIENTS, ROOT

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
TRIALS = {t.trial.id: t for t in load_catalogue(CRITERIA)}
STUDIES = {"NCT01673308": "000", "NCT03730740": "001", "HARMONY-DEL5Q-LEN-DISC": "002",
           "NCT02538198": "003", "NCT01421927": "004"}


def test_catalogue_holds_the_five_studies() -> None:
    assert set(TRIALS) == set(STUDIES)
    for trial_id, seed in STUDIES.items():
        assert TRIALS[trial_id].trial.source.seed.startswith(seed)


def test_packaged_catalogue_is_the_repository_catalogue() -> None:
    shipped = {p.name: p.read_bytes() for p in catalogue_dir().glob("*.yaml")}
    repo = {p.name: p.read_bytes() for p in CRITERIA.glob("*.yaml")}
    assert shipped == repo


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds not beside the repository")
@pytest.mark.parametrize("trial_id", sorted(STUDIES))
def test_criterion_text_is_verbatim_from_the_seed(trial_id: str) -> None:
    loaded = TRIALS[trial_id]
    seed = _squash((SEEDS / loaded.trial.source.seed).read_text("utf-8"))
    for _, criterion in loaded.trial.criteria:
        if criterion.note and "studies.md" in criterion.note:
            continue  # facts recorded in studies.md (HARMONY project page, 003 publication)
        assert criterion.text in seed, f"{criterion.id}: text not found verbatim in the seed"


@pytest.mark.parametrize(("trial_id", "computable"), [
    ("NCT01673308", 13), ("NCT03730740", 4), ("HARMONY-DEL5Q-LEN-DISC", 8),
    ("NCT02538198", 16), ("NCT01421927", 18)])
def test_coverage(trial_id: str, computable: int) -> None:
    found = coverage(TRIALS[trial_id].trial)
    assert found.computable + found.partly == computable
    assert found.total == len(TRIALS[trial_id].trial.criteria) >= computable


def test_seed_000_cut_off_line_needs_review() -> None:
    crit = next(c for _, c in TRIALS["NCT01673308"].trial.criteria
                if c.text.startswith("Candidate of hematopoietic stem cell transplantation"))
    assert crit.rule is None and crit.manual


def test_seed_004_footnote_is_noted() -> None:
    crit = next(c for _, c in TRIALS["NCT01421927"].trial.criteria
                if c.id == "inc-second-third-response")
    assert crit.note and "footnote" in crit.note


@pytest.mark.parametrize(("query", "expected"), [
    ("myeloma", {"NCT02538198", "NCT01421927"}),
    ("multiple myeloma", {"NCT02538198", "NCT01421927"}),
    ("plasma cell myeloma", {"NCT02538198", "NCT01421927"}),
    ("MDS", {"NCT01673308", "HARMONY-DEL5Q-LEN-DISC"}),
    ("myelodysplastic neoplasm", {"NCT01673308", "HARMONY-DEL5Q-LEN-DISC"}),
    ("myelodysplastic syndromes", {"NCT01673308", "HARMONY-DEL5Q-LEN-DISC"}),
    ("lymphoma", {"NCT03730740"}),
    ("T-cell lymphoma", {"NCT03730740"}),
    ("PTCL", {"NCT03730740"}),
    ("C90.00", {"NCT02538198", "NCT01421927"}),
    ("C90.0", {"NCT02538198", "NCT01421927"}),  # an ICD-10-CM prefix covers its subcodes
    ("c900", {"NCT02538198", "NCT01421927"}),
    ("C90", {"NCT02538198", "NCT01421927"}),  # also plasma cell leukaemia: no trial for it
    ("C90.1", set()),  # plasma cell leukaemia only
    ("plasma cell leukemia", set()),
    ("diffuse large B-cell lymphoma", set()),
])
def test_condition_search_follows_synonyms_and_hierarchy(query: str, expected: set[str]) -> None:
    found = find_trials(list(TRIALS.values()), condition=query)
    assert {x.trial.trial.id for x in found} == expected


def test_code_prefix_says_which_codes_matched() -> None:
    (first, _) = find_trials(list(TRIALS.values()), condition="C90.0")
    assert first.matched_via == "multiple myeloma (ICD-10-CM C90.00, C90.01, C90.02)"


@pytest.mark.parametrize("query", ["myelomma", "C99.9", "Z", "C9"])
def test_unknown_condition_is_an_error_with_suggestions(query: str) -> None:
    with pytest.raises(ListingError, match=f"no condition '{query}' in the vocabulary"):
        find_trials(list(TRIALS.values()), condition=query)
    with pytest.raises(ListingError, match="did you mean 'myeloma'"):
        find_trials(list(TRIALS.values()), condition="myelomma")


@pytest.mark.parametrize(("options", "expected"), [
    (["--status", "completed"], {"HARMONY-DEL5Q-LEN-DISC", "NCT01421927"}),
    (["--status", "Recruiting"], {"NCT02538198", "NCT03730740"}),
    (["--status", "RECRUITING", "--status", "Completed"],
     {"NCT02538198", "NCT03730740", "HARMONY-DEL5Q-LEN-DISC", "NCT01421927"}),
    (["--status", "Active, not recruiting"], set()),
    (["--phase", "2"], {"NCT01673308", "NCT03730740", "NCT02538198"}),
    (["--phase", "Phase 1"], {"NCT01421927"}),
    (["--phase", "N/A"], {"HARMONY-DEL5Q-LEN-DISC"}),
    (["--type", "observational"], {"HARMONY-DEL5Q-LEN-DISC"}),
    (["--type", "Observational"], {"HARMONY-DEL5Q-LEN-DISC"}),
    (["--condition", "myeloma", "--status", "recruiting"], {"NCT02538198"}),
    (["--condition", "C90.0"], {"NCT02538198", "NCT01421927"}),
])
def test_trials_command_filters(cli, options: list[str], expected: set[str]) -> None:
    run = cli(["trials", *options, "--format", "json"])
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["schema_version"] == "1.0"
    assert {row["trial_id"] for row in data["trials"]} == expected
    assert all(row["criteria_file"] == f"{row['trial_id']}.yaml" for row in data["trials"])


def test_trials_json_names_match_check(cli) -> None:
    data = json.loads(cli(["trials", "--condition", "C90.0", "-f", "json"]).stdout)
    row = data["trials"][0]
    assert list(row) == ["trial_id", "title", "phase", "type", "status", "conditions",
                         "matched_via", "criteria_file", "criteria_sha256"]
    assert "ICD-10-CM" in row["matched_via"]


@pytest.mark.parametrize("option", ["--status", "--phase", "--type"])
def test_trials_command_bad_filter_value(cli, option: str) -> None:
    run = cli(["trials", option, "open-ish"])
    assert run.code == 2
    assert f"{option} 'open-ish' is not allowed (allowed: " in run.stderr
    assert run.stdout == ""


SOME_CSV = str(ROOT / "tests" / "fixtures" / "csv" / "huge_cell.csv")


@pytest.mark.parametrize("command", [["trials"], ["template"], ["screen", SOME_CSV]])
def test_unknown_condition_exits_the_same_way_everywhere(cli, command: list[str]) -> None:
    run = cli([*command, "--condition", "myelomma"])
    assert run.code == 2
    assert run.stderr == (
        "error: no condition 'myelomma' in the vocabulary; "
        "did you mean 'myeloma' or 'melanoma' or 'myelomatosis'?\n"
    )
    assert run.stdout == ""


# Each example patient states its intended verdict in its opening comment.
EXAMPLES = sorted(PATIENTS.glob("*.yaml"))


def _intent(path: Path) -> tuple[str, str]:
    head = " ".join(line.strip("# \n") for line in path.read_text("utf-8").splitlines()[:6]
                    if line.startswith("#"))
    m = re.search(r"(POSSIBLY ELIGIBLE|INELIGIBLE|ELIGIBLE|MISSING DATA) for "
                  r"(?:the HARMONY cohort \()?([A-Z0-9-]+)", head)
    if m is None:  # the quick-start example states its trial first
        trial = re.search(r"Against ([A-Z0-9-]+)", head)
        verdict = re.search(r"expected verdict is ([A-Z ]+)", head)
        assert trial and verdict, f"{path.name}: no stated verdict"
        return trial.group(1), verdict.group(1).strip()
    return m.group(2), m.group(1)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_patient_gets_its_stated_verdict(path: Path) -> None:
    trial_id, stated = _intent(path)
    expected = {"ELIGIBLE": {"eligible"}, "INELIGIBLE": {"ineligible"},
                "MISSING DATA": {"possibly_eligible"},
                "POSSIBLY ELIGIBLE": {"possibly_eligible"}}[stated]
    result = evaluate_trial(TRIALS[trial_id], load_patient(path), dt.date.fromisoformat(AS_OF))
    assert result.verdict.value in expected
    if stated == "MISSING DATA":
        assert result.unknown, "a missing-data example must leave criteria unknown"


def test_every_study_has_eligible_ineligible_and_missing_data_examples() -> None:
    seen: dict[str, set[str]] = {t: set() for t in STUDIES}
    for path in EXAMPLES:
        trial_id, stated = _intent(path)
        seen[trial_id].add("eligible" if "ELIGIBLE" in stated and stated != "INELIGIBLE"
                           else stated.lower())
    for trial_id, kinds in seen.items():
        assert {"eligible", "ineligible", "missing data"} <= kinds, (trial_id, kinds)
