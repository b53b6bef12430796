"""The engine: Kleene three-valued combinators, trial verdicts, attestations, data to collect.

Leaves with a known verdict come from simple deterministic predicates on one fixed patient
(a woman with no recorded age): ``sex: female`` is met, ``sex: male`` is not met, ``age`` is
unknown and ``review`` needs review. Open verdicts combine with "unknown wins over needs review"
(collect the data first).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.engine.criteria import Criterion, Trial
from trialmatch.engine.evaluate import data_to_collect, evaluate_rule, evaluate_trial
from trialmatch.model.patient import Patient
from trialmatch.model.results import Kind, TrialResult, TrialVerdict, Verdict
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.context import Context

# ----------------------------------------------------------------------------------------------
# Helpers

AS_OF = date(2026, 11, 21)
M, N, U, R = Verdict.met, Verdict.not_met, Verdict.unknown, Verdict.needs_review
SYMBOL = {"M": M, "N": N, "U": U, "R": R}

LEAF: dict[Verdict, dict[str, Any]] = {
    M: {"sex": {"one_of": ["female"]}},
    N: {"sex": {"one_of": ["male"]}},
    U: {"age": {"at_least": 18}},
    R: {"review": {"reason": "only a person can judge this"}},
}
WOMAN = Patient.model_validate({"id": "P1", "sex": "female"})


def rule(spec: dict[str, Any]) -> Any:
    return Criterion.model_validate({"id": "x", "text": "t", "rule": spec}).rule


def verdict_of(spec: dict[str, Any], patient: Patient = WOMAN) -> Verdict:
    ctx = Context(patient=patient, as_of=AS_OF, vocab=Vocabulary.default())
    return evaluate_rule(rule(spec), ctx).verdict


def all_of(*specs: dict[str, Any]) -> dict[str, Any]:
    return {"all": list(specs)}


def any_of(*specs: dict[str, Any]) -> dict[str, Any]:
    return {"any": list(specs)}


def not_(spec: dict[str, Any]) -> dict[str, Any]:
    return {"not": spec}


def at_least(n: int, *specs: dict[str, Any]) -> dict[str, Any]:
    return {"at_least": {"n": n, "of": list(specs)}}


def trial(trial_id: str = "T1", inclusion: tuple[tuple[str, Any], ...] = (),
          exclusion: tuple[tuple[str, Any], ...] = ()) -> Trial:
    """A trial; a criterion given as a string is a manual criterion with that reason."""

    def crits(items: tuple[tuple[str, Any], ...]) -> list[dict[str, Any]]:
        return [{"id": cid, "text": f"criterion {cid}",
                 **({"manual": body} if isinstance(body, str) else {"rule": body})}
                for cid, body in items]

    return Trial.model_validate({
        "id": trial_id, "title": f"trial {trial_id}", "type": "interventional",
        "status": "recruiting", "conditions": ["MDS"], "source": {"document": "test"},
        "inclusion": crits(inclusion), "exclusion": crits(exclusion)})


def screen(t: Trial, patient: Patient | dict[str, Any] = WOMAN) -> TrialResult:
    if isinstance(patient, dict):
        patient = Patient.model_validate({"id": "P1", **patient})
    return evaluate_trial(t, patient, AS_OF, Vocabulary.default())


def by_id(result: TrialResult, criterion_id: str) -> Any:
    return next(c for c in result.criteria if c.criterion_id == criterion_id)


# ----------------------------------------------------------------------------------------------
# Leaves produce the four values

@pytest.mark.parametrize("value", [M, N, U, R], ids=["met", "not_met", "unknown", "review"])
def test_leaf_fixtures_produce_each_value(value: Verdict) -> None:
    assert verdict_of(LEAF[value]) is value


# ----------------------------------------------------------------------------------------------
# Truth tables (rows: left operand, columns: right operand, in the order M N U R)

ALL_TABLE = """
    M N U R
M   M N U R
N   N N N N
U   U N U U
R   R N U R
"""
ANY_TABLE = """
    M N U R
M   M M M M
N   M N U R
U   M U U U
R   M R U R
"""


def table_cases(table: str) -> list[Any]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    return [pytest.param(SYMBOL[row[0]], SYMBOL[col], SYMBOL[cell], id=f"{row[0]}_{col}")
            for row in rows for col, cell in zip(header, row[1:], strict=True)]


@pytest.mark.parametrize(("left", "right", "expected"), table_cases(ALL_TABLE))
def test_all_truth_table(left: Verdict, right: Verdict, expected: Verdict) -> None:
    assert verdict_of(all_of(LEAF[left], LEAF[right])) is expected


@pytest.mark.parametrize(("left", "right", "expected"), table_cases(ANY_TABLE))
def test_any_truth_table(left: Verdict, right: Verdict, expected: Verdict) -> None:
    assert verdict_of(any_of(LEAF[left], LEAF[right])) is expected


@pytest.mark.parametrize(("operand", "expected"), [
    pytest.param(M, N, id="not_met_is_not_met"),
    pytest.param(N, M, id="not_not_met_is_met"),
    pytest.param(U, U, id="not_unknown_stays_unknown"),
    pytest.param(R, R, id="not_review_stays_review"),
])
def test_not_truth_table(operand: Verdict, expected: Verdict) -> None:
    assert verdict_of(not_(LEAF[operand])) is expected


@pytest.mark.parametrize(("n", "operands", "expected"), [
    pytest.param(2, "MMN", M, id="2_of_MMN_met"),
    pytest.param(2, "MMU", M, id="2_of_MMU_met_despite_unknown"),
    pytest.param(2, "MNN", N, id="2_of_MNN_not_met"),
    pytest.param(2, "NNU", N, id="2_of_NNU_not_met_whatever_U_is"),
    pytest.param(2, "MUN", U, id="2_of_MUN_unknown"),
    pytest.param(2, "MRN", R, id="2_of_MRN_review"),
    pytest.param(2, "MUR", U, id="2_of_MUR_unknown_wins_over_review"),
    pytest.param(2, "RRN", R, id="2_of_RRN_review"),
    pytest.param(3, "MMU", U, id="3_of_MMU_unknown"),
    pytest.param(1, "NNN", N, id="1_of_NNN_not_met"),
    pytest.param(1, "NUR", U, id="1_of_NUR_unknown"),
    pytest.param(3, "MMM", M, id="3_of_MMM_met"),
])
def test_at_least_truth_table(n: int, operands: str, expected: Verdict) -> None:
    assert verdict_of(at_least(n, *(LEAF[SYMBOL[s]] for s in operands))) is expected


def test_all_cites_only_the_failing_leaves() -> None:
    ctx = Context(patient=WOMAN, as_of=AS_OF, vocab=Vocabulary.default())
    outcome = evaluate_rule(rule(all_of(LEAF[M], LEAF[N], LEAF[U])), ctx)
    assert outcome.verdict is N
    assert [e.verdict for e in outcome.deciding] == [N]
    assert [e.verdict for e in outcome.leaves] == [M, N, U]


def test_any_cites_only_the_matching_leaves() -> None:
    ctx = Context(patient=WOMAN, as_of=AS_OF, vocab=Vocabulary.default())
    outcome = evaluate_rule(rule(any_of(LEAF[N], LEAF[U], LEAF[M])), ctx)
    assert outcome.verdict is M
    assert [e.verdict for e in outcome.deciding] == [M]


def test_open_all_cites_the_unknown_leaves_first() -> None:
    """Unknown wins over needs-review, and so does its explanation: a review question that the
    missing data would lead to is not asked before the data are collected."""
    ctx = Context(patient=WOMAN, as_of=AS_OF, vocab=Vocabulary.default())
    outcome = evaluate_rule(rule(all_of(LEAF[M], LEAF[U], LEAF[R])), ctx)
    assert outcome.verdict is U
    assert {e.verdict for e in outcome.deciding} == {U}
    outcome = evaluate_rule(rule(all_of(LEAF[M], LEAF[R])), ctx)
    assert outcome.verdict is R
    assert {e.verdict for e in outcome.deciding} == {R}


# ----------------------------------------------------------------------------------------------
# Properties

def reference(tree: Any) -> Verdict:
    """An independent statement of the semantics over nested tuples."""
    op = tree[0]
    if op == "leaf":
        return tree[1]
    if op == "not":
        inner = reference(tree[1])
        return {M: N, N: M}.get(inner, inner)
    kids = [reference(k) for k in tree[1:]] if op != "at_least" else [
        reference(k) for k in tree[2:]]
    n = {"all": len(kids), "any": 1}.get(op, tree[1] if op == "at_least" else 0)
    met = kids.count(M)
    possible = met + kids.count(U) + kids.count(R)
    if met >= n:
        return M
    if possible < n:
        return N
    return U if U in kids else R


def to_spec(tree: Any) -> dict[str, Any]:
    op = tree[0]
    if op == "leaf":
        return LEAF[tree[1]]
    if op == "not":
        return not_(to_spec(tree[1]))
    if op == "at_least":
        return at_least(tree[1], *(to_spec(k) for k in tree[2:]))
    return {op: [to_spec(k) for k in tree[1:]]}


verdicts = st.sampled_from([M, N, U, R])
leaves = verdicts.map(lambda v: ("leaf", v))


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    kid_lists = st.lists(children, min_size=1, max_size=4)
    return st.one_of(
        kid_lists.map(lambda ks: ("all", *ks)),
        kid_lists.map(lambda ks: ("any", *ks)),
        children.map(lambda k: ("not", k)),
        kid_lists.flatmap(lambda ks: st.integers(1, len(ks)).map(
            lambda n: ("at_least", n, *ks))),
    )


trees = st.recursive(leaves, _extend, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_double_negation_is_identity(tree: Any) -> None:
    assert verdict_of(not_(not_(to_spec(tree)))) is verdict_of(to_spec(tree))


@settings(max_examples=150, deadline=None)
@given(st.lists(trees, min_size=1, max_size=5).flatmap(
    lambda ts: st.tuples(st.just(ts), st.permutations(ts))))
def test_all_and_any_are_order_independent(pair: tuple[list[Any], list[Any]]) -> None:
    original, shuffled = pair
    for combinator in ("all", "any"):
        first = verdict_of({combinator: [to_spec(t) for t in original]})
        second = verdict_of({combinator: [to_spec(t) for t in shuffled]})
        assert first is second, combinator


@settings(max_examples=150, deadline=None)
@given(st.lists(trees, min_size=1, max_size=4))
def test_de_morgan(kids: list[Any]) -> None:
    specs = [to_spec(k) for k in kids]
    assert verdict_of(not_({"all": specs})) is verdict_of({"any": [not_(s) for s in specs]})
    assert verdict_of(not_({"any": specs})) is verdict_of({"all": [not_(s) for s in specs]})


@settings(max_examples=150, deadline=None)
@given(st.lists(trees, min_size=1, max_size=4))
def test_at_least_one_is_any_and_at_least_all_is_all(kids: list[Any]) -> None:
    specs = [to_spec(k) for k in kids]
    assert verdict_of(at_least(1, *specs)) is verdict_of({"any": specs})
    assert verdict_of(at_least(len(specs), *specs)) is verdict_of({"all": specs})


@settings(max_examples=200, deadline=None)
@given(trees)
def test_engine_agrees_with_the_reference_semantics(tree: Any) -> None:
    assert verdict_of(to_spec(tree)) is reference(tree)


# ----------------------------------------------------------------------------------------------
# Trial verdicts

@pytest.mark.parametrize(("inclusion", "exclusion", "expected"), [
    pytest.param("M", "N", TrialVerdict.eligible, id="all_favourable_is_eligible"),
    pytest.param("MM", "NN", TrialVerdict.eligible, id="several_all_favourable"),
    pytest.param("", "", TrialVerdict.eligible, id="no_criteria"),
    pytest.param("MN", "N", TrialVerdict.ineligible, id="an_inclusion_not_met"),
    pytest.param("M", "NM", TrialVerdict.ineligible, id="an_exclusion_met"),
    pytest.param("NU", "UR", TrialVerdict.ineligible, id="failure_beats_open_items"),
    pytest.param("MU", "N", TrialVerdict.possibly_eligible, id="an_inclusion_unknown"),
    pytest.param("M", "NU", TrialVerdict.possibly_eligible, id="an_exclusion_unknown"),
    pytest.param("MR", "N", TrialVerdict.possibly_eligible, id="an_inclusion_needs_review"),
    pytest.param("M", "R", TrialVerdict.possibly_eligible, id="an_exclusion_needs_review"),
])
def test_trial_verdict(inclusion: str, exclusion: str, expected: TrialVerdict) -> None:
    t = trial(inclusion=tuple((f"i{k}", LEAF[SYMBOL[s]]) for k, s in enumerate(inclusion)),
              exclusion=tuple((f"e{k}", LEAF[SYMBOL[s]]) for k, s in enumerate(exclusion)))
    assert screen(t).verdict is expected


def test_manual_criterion_needs_review_and_keeps_its_reason() -> None:
    result = screen(trial(inclusion=(("consent", "consent is judged by a person"),)))
    crit = by_id(result, "consent")
    assert crit.verdict is R
    assert crit.label == "needs review"
    assert crit.review_reason == "consent is judged by a person"
    assert result.verdict is TrialVerdict.possibly_eligible


def test_missing_data_never_makes_a_patient_ineligible_or_eligible() -> None:
    t = trial(inclusion=(("age", {"age": {"at_least": 18}}), ("ecog", {"ecog": {"at_most": 2}})),
              exclusion=(("crea", {"lab": {"analyte": "creatinine", "more_than": 2.5,
                                            "unit": "mg/dL"}}),))
    result = screen(t, {})
    assert [c.verdict for c in result.criteria] == [U, U, U]
    assert result.verdict is TrialVerdict.possibly_eligible
    assert result.counts == {"passed": 0, "failed": 0, "unknown": 3, "review": 0}


def test_row_labels_follow_kind() -> None:
    t = trial(inclusion=(("inc-met", LEAF[M]), ("inc-not", LEAF[N])),
              exclusion=(("exc-met", LEAF[M]), ("exc-not", LEAF[N])))
    result = screen(t)
    assert [c.label for c in result.criteria] == ["met", "NOT MET", "EXCLUDED", "clear"]
    assert [c.kind for c in result.criteria] == [Kind.inclusion, Kind.inclusion,
                                                 Kind.exclusion, Kind.exclusion]
    assert result.counts == {"passed": 2, "failed": 2, "unknown": 0, "review": 0}


# ----------------------------------------------------------------------------------------------
# Attestations

def attest(criterion: str, holds: bool, trial_id: str = "T1", on: str = "2026-11-01",
           by: str = "Dr Ada Lovelace", note: str | None = None) -> dict[str, Any]:
    return {"trial": trial_id, "criterion": criterion, "holds": holds, "by": by, "on": on,
            "note": note}


def test_attestation_resolves_a_manual_inclusion_and_is_cited() -> None:
    t = trial(inclusion=(("consent", "consent is judged by a person"), ("woman", LEAF[M])))
    result = screen(t, {"sex": "female",
                        "attestations": [attest("consent", True, note="signed form")]})
    crit = by_id(result, "consent")
    assert crit.verdict is M
    assert crit.attestation == "attested by Dr Ada Lovelace on 2026-11-01: holds (signed form)"
    assert crit.reason.startswith("attested by Dr Ada Lovelace on 2026-11-01")
    assert "consent is judged by a person" in crit.reason  # what the data alone said
    assert result.verdict is TrialVerdict.eligible


def test_attestation_resolves_an_unknown_inclusion_to_not_met() -> None:
    t = trial(inclusion=(("adult", LEAF[U]),))
    result = screen(t, {"sex": "female", "attestations": [attest("adult", False)]})
    crit = by_id(result, "adult")
    assert crit.verdict is N
    assert crit.missing == ()
    assert crit.attestation is not None and "does not hold" in crit.attestation
    assert result.verdict is TrialVerdict.ineligible


def test_attestation_on_an_exclusion_that_holds_excludes() -> None:
    t = trial(inclusion=(("woman", LEAF[M]),),
              exclusion=(("severe", {"review": {"reason": "severe concurrent illness"}}),))
    result = screen(t, {"sex": "female", "attestations": [attest("severe", True)]})
    assert by_id(result, "severe").label == "EXCLUDED"
    assert result.verdict is TrialVerdict.ineligible


@pytest.mark.parametrize(("holds", "data_verdict"), [
    pytest.param(False, M, id="attested_false_on_data_met"),
    pytest.param(True, N, id="attested_true_on_data_not_met"),
])
def test_attestation_never_overrides_what_the_data_decide(holds: bool,
                                                         data_verdict: Verdict) -> None:
    t = trial(inclusion=(("sex", LEAF[data_verdict]),))
    result = screen(t, {"sex": "female", "attestations": [attest("sex", holds)]})
    crit = by_id(result, "sex")
    assert crit.verdict is data_verdict
    assert crit.attestation is not None and "not used" in crit.attestation


def test_attestation_for_another_trial_or_criterion_is_ignored() -> None:
    t = trial(inclusion=(("consent", "consent"),))
    result = screen(t, {"attestations": [attest("consent", True, trial_id="T2"),
                                         attest("other", True)]})
    crit = by_id(result, "consent")
    assert crit.verdict is R
    assert crit.attestation is None


def test_latest_attestation_wins() -> None:
    t = trial(inclusion=(("consent", "consent"),))
    result = screen(t, {"attestations": [attest("consent", True, on="2026-11-10"),
                                         attest("consent", False, on="2026-10-01")]})
    crit = by_id(result, "consent")
    assert crit.verdict is M
    assert crit.attestation is not None and "2026-11-10" in crit.attestation


def test_attested_criterion_has_no_missing_items_left() -> None:
    t = trial(inclusion=(("adult", {"age": {"at_least": 18}}),))
    before = by_id(screen(t, {}), "adult")
    assert before.missing == ("birth date or age",)
    after = by_id(screen(t, {"attestations": [attest("adult", True)]}), "adult")
    assert after.verdict is M
    assert after.missing == ()
    assert after.changes_on is None



def test_unused_attestation_keeps_changes_on() -> None:
    t = trial(inclusion=(("adult", {"age": {"at_least": 18}}),))
    result = screen(t, {"birth_date": "2008-12-01", "attestations": [attest("adult", True)]})
    crit = by_id(result, "adult")
    assert crit.verdict is N
    assert crit.changes_on == date(2026, 12, 1)


# ----------------------------------------------------------------------------------------------
# changes_on at criterion level

def test_changes_on_of_a_single_leaf_reaches_the_criterion() -> None:
    t = trial(inclusion=(("adult", {"age": {"at_least": 18}}),))
    result = screen(t, {"sex": "male", "birth_date": "2008-12-01"})
    assert by_id(result, "adult").changes_on == date(2026, 12, 1)



@pytest.mark.parametrize(("spec", "expected"), [
    pytest.param(all_of({"sex": {"one_of": ["female"]}}, {"age": {"at_least": 18}}),
                 None, id="sex_never_changes"),
    pytest.param(all_of({"age": {"at_least": 18}}, {"age": {"at_least": 19}}),
                 date(2027, 12, 1), id="needs_the_later_birthday"),
])
def test_changes_on_of_a_failing_all_waits_for_every_failing_leaf(
        spec: dict[str, Any], expected: date | None) -> None:
    result = screen(trial(inclusion=(("c", spec),)),
                    {"sex": "male", "birth_date": "2008-12-01"})
    crit = by_id(result, "c")
    assert crit.verdict is N
    assert crit.changes_on == expected


# ----------------------------------------------------------------------------------------------
# data_to_collect

ECOG = {"ecog": {"at_most": 2}}
CREA = {"lab": {"analyte": "creatinine", "at_most": 2.5, "unit": "mg/dL"}}
WEIGHT = {"lab": {"analyte": "weight", "at_least": 40, "unit": "kg"}}


def test_data_to_collect_ranks_items_by_how_many_criteria_they_decide() -> None:
    patient = {"sex": "female", "labs": []}
    results = [
        screen(trial("T1", inclusion=(("ecog", ECOG), ("crea", CREA))), patient),
        screen(trial("T2", inclusion=(("ps", ECOG), ("both", all_of(ECOG, WEIGHT)))), patient),
    ]
    items = data_to_collect(results)
    assert [(d.item, d.criteria) for d in items] == [
        ("ECOG performance status", ("T1/ecog", "T2/ps", "T2/both")),
        ("Body weight (lab)", ("T2/both",)),
        ("Serum creatinine (lab)", ("T1/crea",)),
    ]


def test_data_to_collect_skips_ineligible_trials() -> None:
    patient = {"sex": "female", "labs": []}
    results = [
        screen(trial("T1", inclusion=(("ecog", ECOG),)), patient),
        screen(trial("T2", inclusion=(("man", LEAF[N]), ("crea", CREA), ("ps", ECOG))), patient),
    ]
    assert results[1].verdict is TrialVerdict.ineligible
    items = data_to_collect(results)
    assert [(d.item, d.criteria) for d in items] == [("ECOG performance status", ("T1/ecog",))]


def test_data_to_collect_ignores_review_items_and_decided_criteria() -> None:
    patient = {"sex": "female", "ecog": 1}
    results = [screen(trial("T1", inclusion=(("ecog", ECOG), ("consent", "consent"))), patient)]
    assert data_to_collect(results) == []
