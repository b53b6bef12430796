"""Speed baseline: trial NCT01673308 screened by a hand-written Polars pipeline.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/baseline_trial.py INPUT.csv OUTPUT.csv \\
        [--as-of 2026-11-21]

INPUT may also be a typed Parquet file of the same layout (``.parquet``, as ``bench_screen.py``
converts it): then the same columns are read from it, cast only where its type differs.

It writes the same CSV, byte for byte, as
``trialmatch screen INPUT.csv --trial NCT01673308 --as-of DATE --out OUTPUT.csv -q`` and prints
one line to stdout: ``<seconds> <rows>``. The seconds cover the pipeline from the read to the
end of the write, measured inside the process. Start-up, imports and the vocabulary tables
(built once before the clock starts, under 0.05 s) are not counted.

What it is. One trial's criteria (``criteria/NCT01673308.yaml``) written out by hand as Polars
expressions: the thresholds, ids and criterion ids are hard-coded here. It imports nothing from
trialmatch's engine, predicates, columnar, batch or report modules. The only trialmatch import
is ``trialmatch.model.vocab``: ``Vocabulary.default()`` supplies the terms, hierarchy and unit
factors, and ``normalise`` / ``normalise_unit`` fold spellings. From these it builds small
lookup tables at start: condition term -> id, the "is a" pairs, drug/regimen term -> "contains
a hypomethylating agent" / "contains a drug outside the MDS exceptions", hypersensitivity agent
-> verdict, and unit -> factor. Terms in the data are matched through these tables. Each
distinct spelling in a column is folded once (in Python, on the distinct values only) and
mapped back with ``replace_strict``.

Every criterion gets a verdict code per row (NOT_MET, MET, UNKNOWN, REVIEW), with three-valued
logic for ``all``/``any`` and list semantics. A list that is not recorded is unknown; a
``partial`` marker keeps a list that finds nothing unknown; ``none`` is an empty, complete
list. Items dated after the screening date are ignored. Labs dated after it are unusable, and
labs in a unit with no conversion factor are unknown. Bounds carry the engine's relative 1e-9
tolerance, so 221 umol/L passes creatinine <= 2.5 mg/dL. A therapy with no indication counts as
given for MDS only when MDS is the patient's only diagnosis. An attestation of a criterion of
this trial, dated on or before the screening date, answers an open verdict. From the codes
come ``verdict``, ``failed``, ``unknown`` and ``needs_review`` (criteria in file order, joined
by ';'). A patient id that a spreadsheet would run as a formula is written with a leading
apostrophe.

What it reads. The header line, then only the 110 columns these criteria need, each typed by
the CSV reader (``pl.read_csv(columns=..., schema_overrides=...)``). Dates are ``pl.Date``,
ints ``pl.Int64``, floats ``pl.Float64`` and booleans ``pl.Boolean``; strings stay strings.

* scalars (8): id, birth_date, age, sex, pregnant, childbearing_potential, ecog, ecog_date
* labs (12): creatinine and direct bilirubin (value, unit, date); AST and ALT (value, date,
  ULN)
* diagnoses (1 + 5 per slot): marker; condition, code, subtype, classification, date
* therapies (1 + 7 per slot): marker; drugs, regimen, indication, start, end, setting, outcome
* conditions (1 + 3 per slot): marker; name, status, since
* prior malignancies (1 + 5 per slot): marker; condition, diagnosed, disease_free_since,
  curative_intent, in_remission
* hypersensitivities (1 + 2 per slot): marker; agent, date
* attestations (4 per slot): trial, criterion, holds, on

The slot numbers come from the header. With the generator's layout (2 dx, 5 tx, 6 cond, 2 pm,
2 hs, 2 att) that makes 110 of the 226 columns. A needed column missing from the header reads
as all null.

What it assumes. A clean file, such as ``benchmarks/generate_patients.py --bad-rows 0``
writes. Every cell parses as its column's type, booleans are ``true``/``false``, cells have no
surrounding spaces, every row satisfies the patient model, and there are no blank lines, so
data row *n* is record row *n*. There is no per-cell validation and there are no error
records: the ``error`` column is always empty. A slot holds an item when its defining cell is
given (a diagnosis's condition or code, a therapy's drugs or regimen, a condition's name, a
malignancy's condition, a hypersensitivity's agent, an attestation's trial); in a valid row that
is the same as "any cell of the slot is given".

Whole file, not streaming. ``pl.read_csv`` reads the 110 columns of every row at once. The
distinct spellings of the term columns (and the attested criteria) are collected from that
frame. The criteria are then one lazy query over it: a few ``with_columns`` stages, so that a
shared sub-result (a diagnosis's condition, the only diagnosis, a therapy's "for MDS") is
computed once. The id lists are built as bit masks, spelt out once per distinct mask and mapped
back. The result is written with one ``write_csv``.

Measured with ``/usr/bin/time -v`` on the shared 2-core machine (other jobs running, so about
one core free): 100k rows took about 1.7 s inside and peaked at about 0.34 GB RSS; 1M rows took
16-28 s inside (about 16.5 s of CPU) and peaked at about 1.9-2.1 GB RSS. The peak includes
about 0.64 GB of the input file, which the reader memory-maps. Reading is a little over half
the time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from trialmatch.model.vocab import Vocabulary, normalise, normalise_unit

TRIAL = "NCT01673308"
AS_OF = dt.date(2026, 11, 21)

# Criterion ids in file order (inclusion first); the manual ones always need review.
INCLUSION = (
    "inc-mds-who",
    "inc-hma-failure",
    "inc-age",
    "inc-ecog",
    "inc-organ-creatinine",
    "inc-organ-transaminases",
    "inc-organ-bilirubin",
)
EXCLUSION = (
    "exc-prior-mds-therapy",
    "exc-contraception",
    "exc-contraindication-pregnancy",
    "exc-contraindication-hypersensitivity",
    "exc-contraindication-lactose",
    "exc-oral",
    "exc-other-trial",
    "exc-bleeding",
    "exc-severe-conditions",
    "exc-major-illness",
    "exc-psychiatric",
    "exc-coagulopathy",
    "exc-noncompliance",
    "exc-prior-malignancy",
    "exc-hsct-candidate",
)
MANUAL = frozenset(
    {
        "exc-contraception",
        "exc-oral",
        "exc-other-trial",
        "exc-bleeding",
        "exc-severe-conditions",
        "exc-major-illness",
        "exc-psychiatric",
        "exc-noncompliance",
        "exc-hsct-candidate",
    }
)

# Verdict codes.
NOT_MET, MET, UNKNOWN, REVIEW = 0, 1, 2, 3

# Therapy term flags (drugs cell or regimen cell).
HAS_HMA, HAS_OUTSIDE, UNRESOLVED = 1, 2, 4

HMA_FAILURE_OUTCOMES = ["intolerance", "toxicity", "progression"]
PRESENT_STATUSES = ["active", "controlled", "uncontrolled", "resolved", "history"]

S, D, I, F, B = pl.String, pl.Date, pl.Int64, pl.Float64, pl.Boolean  # noqa: E741

SCALARS: dict[str, Any] = {
    "id": S,
    "birth_date": D,
    "age": I,
    "sex": S,
    "pregnant": B,
    "childbearing_potential": B,
    "ecog": I,
    "ecog_date": D,
}
LABS: dict[str, Any] = {
    "lab_creatinine": F,
    "lab_creatinine_unit": S,
    "lab_creatinine_date": D,
    "lab_ast": F,
    "lab_ast_date": D,
    "lab_ast_uln": F,
    "lab_alt": F,
    "lab_alt_date": D,
    "lab_alt_uln": F,
    "lab_bilirubin_direct": F,
    "lab_bilirubin_direct_unit": S,
    "lab_bilirubin_direct_date": D,
}
MARKERS = ("diagnoses", "therapies", "conditions", "prior_malignancies", "hypersensitivities")
SLOT_COLS: dict[str, dict[str, Any]] = {
    "dx": {"condition": S, "code": S, "subtype": S, "classification": S, "date": D},
    "tx": {
        "drugs": S,
        "regimen": S,
        "indication": S,
        "start": D,
        "end": D,
        "setting": S,
        "outcome": S,
    },
    "cond": {"name": S, "status": S, "since": D},
    "pm": {
        "condition": S,
        "diagnosed": D,
        "disease_free_since": D,
        "curative_intent": B,
        "in_remission": B,
    },
    "hs": {"agent": S, "date": D},
    "att": {"trial": S, "criterion": S, "holds": B, "on": D},
}

# CSV injection: a cell starting like a formula gets a leading apostrophe (as trialmatch does).
FORMULA_START = r"^(?:[=+@\t\r]|-[^0-9])"


# ------------------------------------------------------------------------------------------
# Calendar helpers (whole years; 29 February + n years is 1 March in a non-leap year)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def latest_birth_for_age(as_of: dt.date, years: int) -> dt.date:
    """The latest birth date giving an age of at least ``years`` whole years on ``as_of``."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # as_of is 29 February
        return dt.date(as_of.year - years, 2, 28)


def latest_cleared(as_of: dt.date, years: int) -> dt.date:
    """The latest date d with ``add_years(d, years) <= as_of`` (d + years has passed)."""
    d = latest_birth_for_age(as_of, years) + dt.timedelta(days=3)
    while add_years(d, years) > as_of:
        d -= dt.timedelta(days=1)
    return d


def at_most(v: float) -> float:
    """The number a value is compared with for "<= v": v widened by a relative 1e-9."""
    return v + 1e-9 * max(1.0, abs(v))


def at_least(v: float) -> float:
    """The number a value is compared with for ">= v"."""
    return v - 1e-9 * max(1.0, abs(v))


# ------------------------------------------------------------------------------------------
# Lookup tables, built once from the vocabulary


@dataclass(frozen=True)
class Tables:
    condition: dict[str, str]  # normalised condition term (name, synonym, ICD-10-CM) -> id
    is_a: list[str]  # "child\tancestor" for every condition and each of its ancestors
    mds_below: list[str]  # MDS and its subtypes
    mds_above: list[str]  # conditions broader than MDS
    lactose: list[str]  # the lactose-line conditions and their subtypes
    lactose_settled_by: list[list[str]]  # per lactose target: it and its broader conditions
    congenital_coag: list[str]
    congenital_coag_settled_by: list[list[str]]
    coag: list[str]
    coag_settled_by: list[list[str]]
    pm_excepted: list[str]  # the prior-malignancy exceptions and their subtypes
    therapy_flags: dict[str, int]  # normalised drug/regimen term -> HAS_HMA | HAS_OUTSIDE
    allergy: dict[str, int]  # normalised agent -> verdict code for lenalidomide
    units: dict[str, dict[str, float]]  # lab id -> normalised unit -> factor


def build_tables(vocab: Vocabulary) -> Tables:
    condition: dict[str, str] = {}
    for c in vocab.conditions.values():
        for term in (c.id, c.name, *c.synonyms, *c.icd10cm):
            condition[normalise(term)] = c.id

    def cid(term: str) -> str:
        found = condition.get(normalise(term))
        assert found is not None, term
        return found

    ancestors = {c: vocab.condition_ancestors(c) for c in vocab.conditions}
    is_a = [f"{c}\t{a}" for c, above in ancestors.items() for a in above]

    def below(*terms: str) -> list[str]:
        targets = {cid(t) for t in terms}
        return sorted(c for c, above in ancestors.items() if above & targets)

    def settled_by(*terms: str) -> list[list[str]]:
        return [sorted(ancestors[cid(t)]) for t in terms]

    mds = cid("myelodysplastic syndrome")
    lactose = (
        "galactose intolerance",
        "Lapp lactase deficiency",
        "glucose-galactose malabsorption",
    )

    # Drug and regimen terms -> the drug ids they stand for (a drug name wins over a regimen).
    drug_terms: dict[str, frozenset[str]] = {}
    for r in vocab.regimens.values():
        for term in (r.id, r.name, *r.synonyms):
            drug_terms[normalise(term)] = frozenset(r.drugs)
    for d in vocab.drugs.values():
        for term in (d.id, d.name, *d.synonyms):
            drug_terms[normalise(term)] = frozenset({d.id})
    hma = vocab.class_id("hypomethylating agents")
    excepted = {
        vocab.class_id(c)
        for c in ("hypomethylating agents", "granulocyte-stimulating agents", "erythropoietin")
    }
    therapy_flags = {}
    for term, ids in drug_terms.items():
        classes = [vocab.drug_classes(d) for d in ids]
        therapy_flags[term] = (HAS_HMA if any(hma in c for c in classes) else 0) | (
            HAS_OUTSIDE if any(not (c & excepted) for c in classes) else 0
        )

    # Hypersensitivity to lenalidomide: a class covering it, the drug itself, a regimen holding
    # it (unknown when the regimen has other drugs too: which one caused it is not recorded).
    # A drug or regimen name wins over a class name; an agent in none of them is unknown.
    lenalidomide = vocab.drugs["lenalidomide"]
    allergy: dict[str, int] = {}
    for k in vocab.classes.values():
        hit = k.id in vocab.drug_classes(lenalidomide.id)
        for term in (k.id, k.name, *k.synonyms):
            allergy[normalise(term)] = MET if hit else NOT_MET
    for term, ids in drug_terms.items():
        if lenalidomide.id not in ids:
            allergy[term] = NOT_MET
        else:
            allergy[term] = MET if len(ids) == 1 else UNKNOWN

    # Unit -> how many of it make one canonical unit (the first spelling that folds alike wins).
    units = {
        lab: {normalise_unit(u): f for u, f in reversed(vocab.labs[lab].units.items())}
        for lab in ("creatinine", "bilirubin_direct")
    }
    return Tables(
        condition=condition,
        is_a=is_a,
        mds_below=below("myelodysplastic syndrome"),
        mds_above=sorted(ancestors[mds] - {mds}),
        lactose=below(*lactose),
        lactose_settled_by=settled_by(*lactose),
        congenital_coag=below("congenital coagulopathy"),
        congenital_coag_settled_by=settled_by("congenital coagulopathy"),
        coag=below("coagulopathy"),
        coag_settled_by=settled_by("coagulopathy"),
        pm_excepted=below(
            "nonmelanoma skin cancer", "in situ carcinoma", "cervical intraepithelial neoplasia"
        ),
        therapy_flags=therapy_flags,
        allergy=allergy,
        units=units,
    )


# ------------------------------------------------------------------------------------------
# Expression helpers


def code(c: int) -> pl.Expr:
    return pl.lit(c, dtype=pl.Int8)


def any_(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal([e.fill_null(False) for e in exprs]) if exprs else pl.lit(False)


def tri(ok: pl.Expr) -> pl.Expr:
    return pl.when(ok).then(code(MET)).otherwise(code(NOT_MET))


def kleene_all(*kids: pl.Expr) -> pl.Expr:
    return (
        pl.when(pl.any_horizontal([k == NOT_MET for k in kids]))
        .then(code(NOT_MET))
        .when(pl.all_horizontal([k == MET for k in kids]))
        .then(code(MET))
        .when(pl.any_horizontal([k == UNKNOWN for k in kids]))
        .then(code(UNKNOWN))
        .otherwise(code(REVIEW))
    )


def kleene_any(*kids: pl.Expr) -> pl.Expr:
    return (
        pl.when(pl.any_horizontal([k == MET for k in kids]))
        .then(code(MET))
        .when(pl.all_horizontal([k == NOT_MET for k in kids]))
        .then(code(NOT_MET))
        .when(pl.any_horizontal([k == UNKNOWN for k in kids]))
        .then(code(UNKNOWN))
        .otherwise(code(REVIEW))
    )


def over_list(
    recorded: pl.Expr,
    met: Sequence[pl.Expr],
    open_: Sequence[pl.Expr],
    also_open: pl.Expr | None = None,
) -> pl.Expr:
    """A "some item matches" verdict: not recorded -> unknown; an item matches -> met; an item
    that cannot be judged (or ``also_open``, e.g. a partial list) -> unknown; else not met."""
    undecided = any_(open_) if also_open is None else any_(open_) | also_open
    return (
        pl.when(~recorded)
        .then(code(UNKNOWN))
        .when(any_(met))
        .then(code(MET))
        .when(undecided)
        .then(code(UNKNOWN))
        .otherwise(code(NOT_MET))
    )


def relation(cid: pl.Expr, below: list[str], above: list[str]) -> pl.Expr:
    """MET: the condition or a subtype; UNKNOWN: not in the vocabulary or broader; NOT_MET."""
    return (
        pl.when(cid.is_null())
        .then(code(UNKNOWN))
        .when(cid.is_in(below))
        .then(code(MET))
        .when(cid.is_in(above))
        .then(code(UNKNOWN))
        .otherwise(code(NOT_MET))
    )


# ------------------------------------------------------------------------------------------
# The pipeline


def read_header(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        return list(pl.read_parquet_schema(path))
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def slot_numbers(header: Iterable[str]) -> dict[str, list[int]]:
    found: dict[str, set[int]] = {p: set() for p in SLOT_COLS}
    for name in header:
        m = re.match(r"^([a-z]+)_([1-9]\d*)_", name)
        if m and m[1] in found:
            found[m[1]].add(int(m[2]))
    return {p: sorted(ks) for p, ks in found.items()}


def lookup(
    spellings: dict[str, list[str]],
    columns: Sequence[str],
    answer: Callable[[str], Any],
    dtype: Any,
) -> list[pl.Expr]:
    """``<column>__v``: ``answer`` of each cell, computed once per distinct spelling (given in
    ``spellings`` by column)."""
    table = {v: answer(v) for c in columns for v in spellings[c]}
    table = {k: v for k, v in table.items() if v is not None}
    return [
        pl.col(c).replace_strict(table, default=None, return_dtype=dtype).alias(f"{c}__v")
        for c in columns
    ]


def read_patients(path: Path) -> tuple[pl.DataFrame, dict[str, list[int]]]:
    """The columns the criteria need, typed by the reader (the whole file at once), with the
    data row number; and the slot numbers of each list."""
    header = read_header(path)
    ks = slot_numbers(header)
    wanted: dict[str, Any] = {**SCALARS, **LABS, **{m: S for m in MARKERS}}
    for prefix, cols in SLOT_COLS.items():
        for k in ks[prefix]:
            wanted |= {f"{prefix}_{k}_{suffix}": dtype for suffix, dtype in cols.items()}
    present = [c for c in header if c in wanted]
    if path.suffix == ".parquet":  # typed by its writer: only the columns, cast where needed
        df = pl.read_parquet(path, columns=present).with_columns(
            pl.col(c).cast(wanted[c]) for c in present
        )
    else:
        df = pl.read_csv(
            path,
            columns=present,
            schema_overrides={c: wanted[c] for c in present},
            infer_schema=False,
        )
    df = df.with_row_index("row", offset=1)  # data rows are numbered from 1
    missing = [c for c in wanted if c not in present]
    if missing:
        df = df.with_columns(pl.lit(None, dtype=wanted[c]).alias(c) for c in missing)
    return df, ks


def screen(path: Path, out: Path, as_of: dt.date, t: Tables) -> int:
    """Screen the file into ``out``; returns the number of rows."""
    df, ks = read_patients(path)
    screen_frame(df, ks, as_of, t).write_csv(out)
    return df.height


def screen_frame(
    df: pl.DataFrame, ks: dict[str, list[int]], as_of: dt.date, t: Tables
) -> pl.DataFrame:
    """The output records of the patients in ``df`` (see :func:`read_patients`)."""
    # The distinct spellings of every term column, and the criteria of this trial that some
    # attestation answers.
    term_cols = [
        *(f"dx_{k}_{s}" for k in ks["dx"] for s in ("condition", "code", "subtype")),
        *(f"dx_{k}_classification" for k in ks["dx"]),
        *(f"tx_{k}_{s}" for k in ks["tx"] for s in ("indication", "drugs", "regimen")),
        *(f"cond_{k}_name" for k in ks["cond"]),
        *(f"pm_{k}_condition" for k in ks["pm"]),
        *(f"hs_{k}_agent" for k in ks["hs"]),
        "lab_creatinine_unit",
        "lab_bilirubin_direct_unit",
    ]
    firsts = df.select(
        *(pl.col(c).drop_nulls().unique().implode() for c in term_cols),
        *(
            pl.col(f"att_{k}_criterion")
            .filter(pl.col(f"att_{k}_trial") == TRIAL)
            .drop_nulls()
            .unique()
            .implode()
            .alias(f"attested_{k}")
            for k in ks["att"]
        ),
    )
    spellings = {c: firsts.get_column(c)[0].to_list() for c in term_cols}
    attested = {c for k in ks["att"] for c in firsts.get_column(f"attested_{k}")[0].to_list()}
    lf = df.lazy()
    day = pl.lit(as_of, dtype=pl.Date)
    col = pl.col

    def later(date: pl.Expr) -> pl.Expr:
        return (date > day).fill_null(False)

    def slot(prefix: str, k: int, suffix: str) -> pl.Expr:
        return col(f"{prefix}_{k}_{suffix}")

    def cid(prefix: str, k: int, suffix: str) -> pl.Expr:
        return col(f"{prefix}_{k}_{suffix}__v")

    def recorded(marker: str, items: Sequence[pl.Expr]) -> pl.Expr:
        return col(marker).is_not_null() | any_(items)

    def partial(marker: str) -> pl.Expr:
        return (col(marker) == "partial").fill_null(False)

    def is_a(child: pl.Expr, ancestor: pl.Expr) -> pl.Expr:
        return pl.concat_str([child, ancestor], separator="\t").is_in(t.is_a).fill_null(False)

    # Stage 1: vocabulary answers for each term column (once per distinct spelling).
    condition_cols: list[str] = [
        *(f"dx_{k}_{s}" for k in ks["dx"] for s in ("condition", "code", "subtype")),
        *(f"tx_{k}_indication" for k in ks["tx"]),
        *(f"cond_{k}_name" for k in ks["cond"]),
        *(f"pm_{k}_condition" for k in ks["pm"]),
    ]

    def drugs_flags(cell: str) -> int:
        flags = 0
        for item in cell.split(";"):
            flags |= t.therapy_flags.get(normalise(item), UNRESOLVED)
        return flags

    def who(text: str) -> bool:
        return normalise(text).replace(" ", "").startswith("who")

    def unit_factor(lab: str) -> Callable[[str], float | None]:
        return lambda unit: t.units[lab].get(normalise_unit(unit))

    lf = lf.with_columns(
        *lookup(spellings, condition_cols, lambda v: t.condition.get(normalise(v)), S),
        *lookup(spellings, [f"dx_{k}_classification" for k in ks["dx"]], who, B),
        *lookup(spellings, [f"tx_{k}_drugs" for k in ks["tx"]], drugs_flags, pl.Int8),
        *lookup(
            spellings,
            [f"tx_{k}_regimen" for k in ks["tx"]],
            lambda v: t.therapy_flags.get(normalise(v), UNRESOLVED),
            pl.Int8,
        ),
        *lookup(
            spellings,
            [f"hs_{k}_agent" for k in ks["hs"]],
            lambda v: t.allergy.get(normalise(v), UNKNOWN),
            pl.Int8,
        ),
        *lookup(spellings, ["lab_creatinine_unit"], unit_factor("creatinine"), F),
        *lookup(spellings, ["lab_bilirubin_direct_unit"], unit_factor("bilirubin_direct"), F),
    )

    # Stage 2: each diagnosis's condition: the subtype's, replaced by the code's and then the
    # name's when that is more specific (a subtype of it); which diagnoses are made by the
    # screening date.
    dx = ks["dx"]
    dx_cid = {k: col(f"dx{k}_cid") for k in dx}
    dx_now = {k: col(f"dx{k}_now") for k in dx}
    lf = lf.with_columns(cid("dx", k, "subtype").alias(f"dx{k}_cid") for k in dx)
    for suffix in ("code", "condition"):
        lf = lf.with_columns(
            pl.when(
                cid("dx", k, suffix).is_not_null()
                & (dx_cid[k].is_null() | is_a(cid("dx", k, suffix), dx_cid[k]))
            )
            .then(cid("dx", k, suffix))
            .otherwise(dx_cid[k])
            .alias(f"dx{k}_cid")
            for k in dx
        )
    dx_given = {
        k: slot("dx", k, "condition").is_not_null() | slot("dx", k, "code").is_not_null()
        for k in dx
    }
    lf = lf.with_columns(
        (dx_given[k] & ~later(slot("dx", k, "date"))).alias(f"dx{k}_now") for k in dx
    )

    # Stage 3: the patient's only diagnosis (diagnoses of one lineage count as one: the most
    # specific stands for them; unrelated ones, or one not in the vocabulary, leave none), and
    # the date of the first diagnosis (null when one is undated).
    only, several = col("only"), col("several")
    lf = lf.with_columns(pl.lit(None, dtype=S).alias("only"), pl.lit(False).alias("several"))
    for k in dx:
        this, now = dx_cid[k], dx_now[k]
        unrelated = only.is_not_null() & ~is_a(this, only) & ~is_a(only, this)
        lf = lf.with_columns(
            (several | (now & (this.is_null() | unrelated))).alias("several"),
            pl.when(now & (only.is_null() | is_a(this, only)))
            .then(this)
            .otherwise(only)
            .alias("only"),
        )
    undated = any_([dx_now[k] & slot("dx", k, "date").is_null() for k in dx])
    first = pl.min_horizontal([pl.when(dx_now[k]).then(slot("dx", k, "date")) for k in dx])
    lf = lf.with_columns(
        relation(pl.when(~several).then(only), t.mds_below, t.mds_above).alias("only_dx"),
        (pl.when(undated).then(None).otherwise(first) if dx else pl.lit(None, dtype=D)).alias(
            "first_dx"
        ),
    )

    # Stage 4: per therapy, whether it has started, whether it was for MDS, what it holds.
    stage4: list[pl.Expr] = []
    for k in ks["tx"]:
        start, end = slot("tx", k, "start"), slot("tx", k, "end")
        drugs, regimen = slot("tx", k, "drugs"), slot("tx", k, "regimen")
        inferred = (
            pl.when((col("only_dx") == MET) & (end < col("first_dx")).fill_null(False))
            .then(code(NOT_MET))  # ended before MDS was diagnosed
            .when((col("only_dx") == MET) & (start < col("first_dx")).fill_null(False))
            .then(code(UNKNOWN))  # started before it: what it treated is not recorded
            .otherwise(col("only_dx"))
        )
        for_mds = (
            pl.when(slot("tx", k, "indication").is_null())
            .then(inferred)
            .otherwise(relation(cid("tx", k, "indication"), t.mds_below, t.mds_above))
        )
        d = col(f"tx_{k}_drugs__v").fill_null(0)
        r = col(f"tx_{k}_regimen__v").fill_null(0)
        drug_unresolved = (d & UNRESOLVED) > 0
        # An unknown regimen name beside known drugs does not matter: judged on the drugs.
        unresolved = drug_unresolved | (
            ((r & UNRESOLVED) > 0) & (drugs.is_null() | drug_unresolved)
        )

        def holds(flag: int, d: pl.Expr = d, r: pl.Expr = r, u: pl.Expr = unresolved) -> pl.Expr:
            return (
                pl.when(((d | r) & flag) > 0)
                .then(code(MET))
                .when(u)
                .then(code(UNKNOWN))
                .otherwise(code(NOT_MET))
            )

        given = drugs.is_not_null() | regimen.is_not_null()
        stage4 += [
            given.alias(f"tx{k}_given"),
            (given & ~later(start)).alias(f"tx{k}_started"),
            for_mds.alias(f"tx{k}_mds"),
            holds(HAS_HMA).alias(f"tx{k}_hma"),
            holds(HAS_OUTSIDE).alias(f"tx{k}_outside"),
            # the outcome as known on the screening date
            pl.when(later(end))
            .then(pl.lit("ongoing"))
            .otherwise(slot("tx", k, "outcome"))
            .alias(f"tx{k}_outcome"),
        ]
    lf = lf.with_columns(stage4)

    # Stage 5: one verdict code per criterion.
    tx = ks["tx"]
    tx_recorded = recorded("therapies", [col(f"tx{k}_given") for k in tx])
    hma_met, hma_open, other_met, other_open = [], [], [], []
    for k in tx:
        mds, hma, outside = col(f"tx{k}_mds"), col(f"tx{k}_hma"), col(f"tx{k}_outside")
        outcome, started = col(f"tx{k}_outcome"), col(f"tx{k}_started")
        # inc-hma-failure: an HMA course (for any condition) that failed.
        hma_met.append(
            started & (hma == MET) & outcome.is_in(HMA_FAILURE_OUTCOMES).fill_null(False)
        )
        hma_open.append(started & ((hma == UNKNOWN) | ((hma == MET) & outcome.is_null())))
        # exc-prior-mds-therapy: a course for MDS, not supportive care, with a drug outside
        # the exceptions.
        supportive = (slot("tx", k, "setting") == "supportive").fill_null(False)
        live = started & (mds != NOT_MET) & ~supportive
        other_met.append(live & (outside == MET) & (mds == MET))
        other_open.append(live & ((outside == UNKNOWN) | ((outside == MET) & (mds == UNKNOWN))))

    dx_cat = {
        k: (
            pl.when(dx_cid[k].is_null())
            .then(code(UNKNOWN))
            .when(dx_cid[k].is_in(t.mds_below))
            .then(
                pl.when(col(f"dx_{k}_classification__v").is_null())
                .then(code(UNKNOWN))
                .otherwise(tri(col(f"dx_{k}_classification__v")))
            )
            .when(dx_cid[k].is_in(t.mds_above))
            .then(code(UNKNOWN))
            .otherwise(code(NOT_MET))
        )
        for k in ks["dx"]
    }
    mds_who = over_list(
        recorded("diagnoses", list(dx_given.values())),
        [dx_now[k] & (dx_cat[k] == MET) for k in ks["dx"]],
        [dx_now[k] & (dx_cat[k] == UNKNOWN) for k in ks["dx"]],
    )

    born, age = col("birth_date"), col("age")
    adult = (
        pl.when(born.is_not_null() & (born > day))
        .then(code(UNKNOWN))
        .when(born.is_not_null())
        .then(tri(born <= latest_birth_for_age(as_of, 18)))
        .when(age.is_not_null())
        .then(tri(age >= at_least(18)))
        .otherwise(code(UNKNOWN))
    )
    ecog = (
        pl.when(col("ecog").is_null() | later(col("ecog_date")))
        .then(code(UNKNOWN))
        .otherwise(tri(col("ecog") <= at_most(2)))
    )

    def lab(name: str, limit: float, relative_to_uln: bool) -> pl.Expr:
        value, date = col(f"lab_{name}"), col(f"lab_{name}_date")
        usable = value.is_not_null() & ~later(date)
        if relative_to_uln:
            uln = col(f"lab_{name}_uln")
            decided = (
                pl.when(uln.is_null() | (uln <= 0))
                .then(code(UNKNOWN))
                .otherwise(tri(value / uln <= at_most(limit)))
            )
        else:  # converted to mg/dL: value / factor(unit) * factor(mg/dL)
            mg_dl = value / col(f"lab_{name}_unit__v") * t.units[name][normalise_unit("mg/dL")]
            decided = (
                pl.when(mg_dl.is_null()).then(code(UNKNOWN)).otherwise(tri(mg_dl <= at_most(limit)))
            )
        return pl.when(~usable).then(code(UNKNOWN)).otherwise(decided)

    sex = col("sex")
    pregnant = (
        pl.when((sex == "male").fill_null(False))
        .then(code(NOT_MET))
        .when(col("pregnant").fill_null(False))
        .then(code(MET))
        .when(col("pregnant").is_null())
        .then(code(UNKNOWN))
        .otherwise(code(NOT_MET))
    )
    female = pl.when(sex.is_null()).then(code(UNKNOWN)).otherwise(tri(sex == "female"))
    cbp = col("childbearing_potential")
    may_become = pl.when(cbp.is_null()).then(code(UNKNOWN)).otherwise(tri(cbp))

    hs = ks["hs"]
    hs_now = {k: slot("hs", k, "agent").is_not_null() & ~later(slot("hs", k, "date")) for k in hs}
    allergy = over_list(
        recorded("hypersensitivities", [slot("hs", k, "agent").is_not_null() for k in hs]),
        [hs_now[k] & (col(f"hs_{k}_agent__v") == MET) for k in hs],
        [hs_now[k] & (col(f"hs_{k}_agent__v") == UNKNOWN) for k in hs],
        partial("hypersensitivities"),
    )

    cond = ks["cond"]
    cond_given = [slot("cond", k, "name").is_not_null() for k in cond]
    cond_recorded = recorded("conditions", cond_given)

    def condition(below: list[str], settled_by: list[list[str]]) -> pl.Expr:
        """One of the conditions (or a subtype), in any status; a status "unknown" or a name
        not in the vocabulary leaves it open; "absent" on it (or a broader condition) settles
        it for a problem list known only in part."""
        met, open_ = [], []
        settled: list[list[pl.Expr]] = [[] for _ in settled_by]
        for k in cond:
            name, status = cid("cond", k, "name"), slot("cond", k, "status")
            now = slot("cond", k, "name").is_not_null() & ~later(slot("cond", k, "since"))
            match = name.is_in(below).fill_null(False)
            met.append(now & match & (status.is_in(PRESENT_STATUSES) | status.is_null()))
            open_.append(now & (name.is_null() | (match & (status == "unknown"))))
            for s, above in zip(settled, settled_by, strict=True):
                s.append(now & name.is_in(above) & (status == "absent"))
        all_settled = pl.all_horizontal([any_(s) for s in settled])
        return over_list(cond_recorded, met, open_, partial("conditions") & ~all_settled)

    pm = ks["pm"]
    cleared = latest_cleared(as_of, 5)
    pm_met, pm_open = [], []
    for k in pm:
        name = cid("pm", k, "condition")
        now = slot("pm", k, "condition").is_not_null() & ~later(slot("pm", k, "diagnosed"))
        curative, remission = slot("pm", k, "curative_intent"), slot("pm", k, "in_remission")
        dfs = slot("pm", k, "disease_free_since")
        excepted = name.is_in(t.pm_excepted).fill_null(False)
        # An exception counts only when curatively treated; a name the vocabulary does not
        # know may be one.
        exc_open = name.is_null() | (excepted & curative.is_null())
        exc_clear = excepted & curative.fill_null(False)
        by_exception = exc_open | exc_clear
        recent_now = (curative == False).fill_null(False) | (  # noqa: E712
            dfs.is_null() & (remission == False).fill_null(False)  # noqa: E712
        )
        inside = (dfs > cleared).fill_null(False)  # disease-free for under 5 years
        item_open = dfs.is_null() | (dfs.is_not_null() & ~inside & curative.is_null())
        pm_met.append(now & ~by_exception & (recent_now | inside))
        pm_open.append(now & (exc_open | (~by_exception & ~recent_now & item_open)))
    prior_malignancy = over_list(
        recorded("prior_malignancies", [slot("pm", k, "condition").is_not_null() for k in pm]),
        pm_met,
        pm_open,
        partial("prior_malignancies"),
    )

    # Leaves used inside all/any are computed first, so each is evaluated once.
    lf = lf.with_columns(
        lab("ast", 3.0, True).alias("ast_ok"),
        lab("alt", 3.0, True).alias("alt_ok"),
        pregnant.alias("pregnant_now"),
        female.alias("female"),
        may_become.alias("may_become_pregnant"),
        condition(t.congenital_coag, t.congenital_coag_settled_by).alias("congenital_coag"),
        condition(t.coag, t.coag_settled_by).alias("coag"),
    )
    review = code(REVIEW)
    verdicts: dict[str, pl.Expr] = {
        "inc-mds-who": mds_who,
        "inc-hma-failure": over_list(tx_recorded, hma_met, hma_open, partial("therapies")),
        "inc-age": adult,
        "inc-ecog": ecog,
        "inc-organ-creatinine": lab("creatinine", 2.5, False),
        "inc-organ-transaminases": kleene_all(col("ast_ok"), col("alt_ok")),
        "inc-organ-bilirubin": lab("bilirubin_direct", 2.0, False),
        "exc-prior-mds-therapy": over_list(
            tx_recorded, other_met, other_open, partial("therapies")
        ),
        # pregnant, or a woman of childbearing potential (whether she may become pregnant
        # needs a person)
        "exc-contraindication-pregnancy": kleene_any(
            col("pregnant_now"), kleene_all(col("female"), col("may_become_pregnant"), review)
        ),
        "exc-contraindication-hypersensitivity": allergy,
        "exc-contraindication-lactose": condition(t.lactose, t.lactose_settled_by),
        # congenital, or any coagulopathy (whether unrelated to the malignancy needs a person)
        "exc-coagulopathy": kleene_any(col("congenital_coag"), kleene_all(col("coag"), review)),
        "exc-prior-malignancy": prior_malignancy,
    }
    for c in MANUAL:
        verdicts[c] = review
    att_cols = [f"att_{k}_{s}" for k in ks["att"] for s in SLOT_COLS["att"]]
    codes = lf.select(col("row"), col("id"), *att_cols, *(v.alias(c) for c, v in verdicts.items()))

    # Attestations: the latest one of a criterion of this trial, dated by the screening date,
    # answers an open verdict. Only criteria attested somewhere in the file need the work.
    answers = []
    for c in sorted(attested & set(verdicts)):
        match = {
            k: (
                (slot("att", k, "trial") == TRIAL)
                & (slot("att", k, "criterion") == c)
                & (slot("att", k, "on") <= day)
            ).fill_null(False)
            for k in ks["att"]
        }
        latest = pl.max_horizontal(
            [pl.when(m).then(slot("att", k, "on")) for k, m in match.items()]
        )
        answer = pl.coalesce(
            [
                pl.when(m & (slot("att", k, "on") == latest)).then(slot("att", k, "holds"))
                for k, m in match.items()
            ]
        )
        answers.append(
            pl.when(col(c).is_in([UNKNOWN, REVIEW]) & answer.is_not_null())
            .then(tri(answer))
            .otherwise(col(c))
            .alias(c)
        )
    if answers:
        codes = codes.with_columns(answers)

    # The record: the verdict, and the failed / unknown / needs-review id lists. Each list is a
    # bit mask of the criteria first (bit i: the i-th criterion in file order); the few
    # distinct masks are spelt out once and mapped back (joining strings row by row costs
    # several times more).
    ids = (*INCLUSION, *EXCLUSION)
    fail = [col(c) == (NOT_MET if c in INCLUSION else MET) for c in ids]
    ok = [col(c) == (MET if c in INCLUSION else NOT_MET) for c in ids]

    def mask(flags: Sequence[pl.Expr]) -> pl.Expr:
        return pl.sum_horizontal(f.cast(pl.Int64) * (1 << i) for i, f in enumerate(flags))

    patient = col("id")
    flagged = codes.select(
        col("row"),
        pl.when(patient.str.contains(FORMULA_START))
        .then(pl.lit("'") + patient)
        .otherwise(patient)
        .alias("patient_id"),
        pl.lit(TRIAL).alias("trial_id"),
        pl.when(pl.any_horizontal(fail))
        .then(pl.lit("ineligible"))
        .when(pl.all_horizontal(ok))
        .then(pl.lit("eligible"))
        .otherwise(pl.lit("possibly_eligible"))
        .alias("verdict"),
        mask(fail).alias("failed"),
        mask([col(c) == UNKNOWN for c in ids]).alias("unknown"),
        mask([col(c) == REVIEW for c in ids]).alias("needs_review"),
    ).collect()
    lists = ("failed", "unknown", "needs_review")
    distinct = flagged.select(pl.concat([pl.col(n) for n in lists]).unique()).to_series()
    spelt = {m: ";".join(c for i, c in enumerate(ids) if m >> i & 1) for m in distinct}
    return flagged.with_columns(
        *(pl.col(n).replace_strict(spelt, return_dtype=S) for n in lists),
        pl.lit(None, dtype=S).alias("error"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    args = parser.parse_args(argv)
    tables = build_tables(Vocabulary.default())
    start = time.perf_counter()
    rows = screen(args.input, args.output, args.as_of, tables)
    print(f"{time.perf_counter() - start:.3f} {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
