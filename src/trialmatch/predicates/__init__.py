"""The operator table: every leaf predicate of the criteria language, one module each.

A predicate module holds the whole of one predicate (or a small family): its argument model,
its per-patient evaluation with evidence, its columnar compilation and the CSV columns it
reads, listed in its ``PREDICATES``. Shared machinery sits below and never imports a
predicate: :mod:`~trialmatch.predicates.base` (argument bases, evidence helpers),
:mod:`~trialmatch.predicates.context` (what an evaluation may look at),
:mod:`~trialmatch.predicates.history` (therapy lines and courses, in both engines),
:mod:`~trialmatch.predicates.dates` and :mod:`trialmatch.columnar` (Polars toolkit, verdict
codes, the compile-time builder).

>>> "ecog" in REGISTRY and REGISTRY["ecog"].args.__name__
'EcogArgs'
"""

from __future__ import annotations

from collections.abc import Sequence

from trialmatch.predicates import (
    age,
    condition,
    cumulative_exposure,
    diagnosis,
    disease_state,
    donor,
    ecog,
    finding,
    hypersensitivity,
    lab,
    pregnancy,
    prior_malignancy,
    prior_therapy,
    prior_therapy_except,
    procedure,
    response,
    review,
    sex,
    transfusion,
)
from trialmatch.predicates.base import Predicate

# The order is the order of the criteria schema and of "allowed:" lists in messages.
MODULES = (
    age,
    sex,
    pregnancy,
    diagnosis,
    finding,
    ecog,
    lab,
    prior_therapy,
    cumulative_exposure,
    prior_therapy_except,
    response,
    disease_state,
    prior_malignancy,
    condition,
    hypersensitivity,
    donor,
    procedure,
    transfusion,
    review,
)

REGISTRY: dict[str, Predicate] = {p.name: p for m in MODULES for p in m.PREDICATES}


def predicate_names() -> Sequence[str]:
    """Every registered predicate name, sorted.

    >>> predicate_names()[:3]
    ['age', 'childbearing_potential', 'condition']
    """
    return sorted(REGISTRY)
