"""The ``review`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.engine.criteria import Criterion
from trialmatch.model.patient import Patient
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.context import Context

from .helpers import AS_OF, REVIEW, UNKNOWN, check


@pytest.mark.parametrize("patient", [
    pytest.param({}, id="empty_patient"),
    pytest.param({"sex": "female", "age": 40, "ecog": 0, "labs": [], "therapies": []},
                 id="full_patient"),
])
def test_review_always_needs_review(patient: dict[str, Any]) -> None:
    ev = check({"review": {"reason": "investigator judges severe illness"}}, patient, REVIEW)
    assert ev.sentence == "investigator judges severe illness"


def test_open_all_explains_the_missing_data_not_the_review_question() -> None:
    from trialmatch.engine.criteria import Trial
    from trialmatch.engine.evaluate import evaluate_criterion
    from trialmatch.model.results import Kind

    crit = Criterion.model_validate({
        "id": "x", "text": "t",
        "rule": {"all": [{"condition": {"any_of": ["myocardial infarction"]}},
                         {"review": {"reason": "an MI is recorded: whether it is recent"}}]}})
    trial = Trial.model_validate({"id": "T", "title": "t", "type": "interventional",
                                  "status": "recruiting", "conditions": ["MDS"],
                                  "source": {"document": "d"}})
    ctx = Context(patient=Patient(id="P"), as_of=AS_OF, vocab=Vocabulary.default())
    result = evaluate_criterion(trial, Kind.exclusion, crit, ctx)
    assert result.verdict is UNKNOWN
    assert "an MI is recorded" not in result.reason
    assert result.review_reason is None
