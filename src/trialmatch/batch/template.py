"""Which CSV columns the selected trials read (``trialmatch template``), from each predicate's
``reads``, and the example rows of a template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trialmatch.engine.criteria import LoadedTrial
from trialmatch.model.patient import Patient
from trialmatch.model.vocab import Vocabulary


def needed_columns(trials: Sequence[LoadedTrial], vocab: Vocabulary | None = None) -> list[str]:
    """The CSV columns the trials' criteria read, in layout order (plus id and attestations).

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> cols = needed_columns([t for t in load_catalogue() if t.trial.id == "NCT01421927"])
    >>> "lab_lvef" in cols and "donor_hla_match" in cols and "lab_hemoglobin" not in cols
    True
    """
    from trialmatch.engine.criteria import AllNode, AnyNode, AtLeastNode, NotNode
    from trialmatch.model.csvlayout import GROUPS, LAB_COLS, SCALARS
    from trialmatch.predicates import REGISTRY

    vocab = vocab or Vocabulary.default()
    scalars: set[str] = {"id"}
    labs: list[str] = []
    lists: set[str] = {"attestations"}

    def walk(node: Any) -> None:
        if isinstance(node, AllNode | AnyNode):
            for child in node.all if isinstance(node, AllNode) else node.any:
                walk(child)
            return
        if isinstance(node, NotNode):
            walk(node.not_)
            return
        if isinstance(node, AtLeastNode):
            for child in node.at_least.of:
                walk(child)
            return
        name = next(iter(type(node).model_fields))
        reads = REGISTRY[name].columns(getattr(node, name), vocab)
        scalars.update(reads.scalars)
        lists.update(reads.lists)
        labs.extend(x for x in reads.labs if x not in labs)

    for t in trials:
        for _, criterion in t.trial.criteria:
            if criterion.rule is not None:
                walk(criterion.rule)
    out = [c.suffix for c in SCALARS if c.suffix in scalars]
    for lab_id in sorted(labs):
        out += [f"lab_{lab_id}{c.suffix}" for c in LAB_COLS]
    for g in GROUPS:
        if g.marker in lists:
            out.append(g.marker)
            for k in range(1, g.slots + 1):
                out += [f"{g.prefix}_{k}_{c.suffix}" for c in g.cols]
    return out


EXAMPLE_PATIENT: dict[str, Any] = {
    "id": "EXAMPLE-001",
    "birth_date": "1954-06-12",
    "sex": "male",
    "pregnant": False,
    "breastfeeding": False,
    "childbearing_potential": False,
    "diagnoses": [
        {
            "condition": "myelodysplastic syndrome",
            "code": "D46.9",
            "classification": "WHO 2016",
            "date": "2024-03-01",
            "findings": ["del(5q)", {"name": "JAK2 V617F", "present": False}],
            "risk_scores": [{"system": "IPSS-R", "category": "low", "date": "2024-03-10"}],
        }
    ],
    "ecog": {"value": 1, "date": "2026-11-10"},
    "labs": [
        {"name": "creatinine", "value": 106, "unit": "umol/L", "date": "2026-11-10"},
        {"name": "ast", "value": 28, "unit": "U/L", "uln": 40, "date": "2026-11-10"},
        {"name": "weight", "value": 74, "unit": "kg", "date": "2026-11-10"},
    ],
    "therapies": [
        {
            "drugs": ["azacitidine"],
            "line": 1,
            "setting": "first_line",
            "start": "2024-04-08",
            "end": "2025-12-15",
            "cycles": 18,
            "best_response": "SD",
            "outcome": "progression",
        }
    ],
    "disease_status": {
        "response": "SD",
        "date": "2026-10-30",
        "assessed_by": "bone marrow",
        "after_line": 1,
    },
    "conditions": [{"condition": "hypertension", "status": "controlled", "since": "2015-01-01"}],
    "prior_malignancies": [],
    "hypersensitivities": [],
    "procedures": [],
    "transfusions": [],
}


def template_rows(
    trials: Sequence[LoadedTrial], vocab: Vocabulary | None = None, example: bool = True
) -> tuple[list[str], list[dict[str, str]]]:
    """Header (the columns the trials need) and, optionally, one example row."""
    from trialmatch.model.csvrow import patient_to_row

    columns = needed_columns(trials, vocab)
    rows = []
    if example:
        full = patient_to_row(Patient.model_validate(EXAMPLE_PATIENT))
        rows.append({c: full.get(c, "") for c in columns})
    return columns, rows


def template_frame(
    trials: Sequence[LoadedTrial], vocab: Vocabulary | None = None, example: bool = False
) -> Any:
    """The template as a typed Polars frame (for ``template --format parquet``): the columns
    of :func:`template_rows`, each typed by its kind (date -> Date, int -> Int64, float ->
    Float64, bool -> Boolean, others String); no rows, or the example row.

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> frame = template_frame([t for t in load_catalogue() if t.trial.id == "NCT01421927"])
    >>> frame.height, frame.schema["birth_date"], frame.schema["lab_lvef"], frame.schema["id"]
    (0, Date, Float64, String)
    """
    import polars as pl

    from trialmatch.columnar.typed import KIND_DTYPE
    from trialmatch.columnar.typed_input import kind_of
    from trialmatch.model.csvlayout import parse_cell, parse_header

    vocab = vocab or Vocabulary.default()
    columns, rows = template_rows(trials, vocab, example=example)
    header = parse_header(columns, vocab.labs)
    kinds = {name: kind_of(header, name) for name in columns}
    schema = {name: KIND_DTYPE.get(kinds[name], pl.String) for name in columns}
    data: dict[str, list[Any]] = {name: [] for name in columns}
    for row in rows:
        for name in columns:
            text = row.get(name, "")
            typed = kinds[name] in ("date", "int", "float", "bool")
            col = header.col_of(name)
            value = parse_cell(name, col, text) if text and typed and col else text or None
            data[name].append(value)
    return pl.DataFrame(data, schema=schema)
