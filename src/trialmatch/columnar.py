"""The columnar engine: rule trees compiled to Polars expressions over a batch of CSV rows.

Each criterion becomes one Int8 column holding a verdict code (:data:`NOT_MET`, :data:`MET`,
:data:`UNKNOWN`, :data:`REVIEW`). Every leaf compiler mirrors its evaluator in
:mod:`trialmatch.predicates` line for line; the per-patient engine stays the reference, and
the test suite checks that both give the same verdicts (example patients and generated ones).

Vocabulary questions (does this drug string contain lenalidomide?) are answered in Python once
per distinct cell value of the batch and mapped back; dates and numbers are compared in
vectorized form, with the same thresholds as the reference (:func:`predicates.threshold`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import polars as pl
from pydantic import BaseModel

from trialmatch import predicates as P
from trialmatch.engine.criteria import AllNode, AnyNode, AtLeastNode, NotNode, Trial
from trialmatch.io.csvlayout import (
    FLOAT_RE,
    GROUPS,
    LAB_COLS,
    LIST_SEP,
    MARKERS,
    NONE_MARKER,
    PARTIAL_MARKER,
    Col,
    Group,
    Header,
)
from trialmatch.io.csvrows import MAX_CELL_CHARS
from trialmatch.model.patient import (
    DATE_MAX,
    DATE_MIN,
    MAX_AGE,
    NO_RESPONSE_OUTCOMES,
    TherapyOutcome,
)
from trialmatch.model.vocab import Vocabulary, normalise

NOT_MET, MET, UNKNOWN, REVIEW = 0, 1, 2, 3
CODE = pl.Int8


def lit(code: int) -> pl.Expr:
    """A verdict code literal."""
    return pl.lit(code, dtype=CODE)


# ------------------------------------------------------------------------------------------
# Typing the raw (all-string) batch and finding bad cells


_KIND_DTYPE = {
    "str": pl.Utf8,
    "list": pl.Utf8,
    "enum": pl.Utf8,
    "date": pl.Date,
    "bool": pl.Boolean,
    "int": pl.Int64,
    "float": pl.Float64,
}


# Python's str.strip() also strips the information separators \x1c-\x1f: flag them too.
_EDGE_SPACE = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"
_EMPTY_ITEM = r"(^|;)[\s\x1c-\x1f]*(;|$)"


TYPED = "\x00typed"  # suffix of a typed value column while a batch is being typed


def _typed(name: str, col: Col) -> tuple[pl.Expr | None, pl.Expr, pl.Expr]:
    """(typed value or None, final column, "unusual" flag) for one raw string column.

    The typed value (for dates and numbers) is computed once, as column ``name + TYPED``;
    the final column and the flag read it from there instead of parsing the text again.
    The typed value is right for every cell that is not flagged. The flag over-approximates:
    it marks every cell the layout's rules reject and also cells that are merely unusual
    (surrounding spaces, an empty quoted cell, a year before 1000, ...). Rows with a flagged
    cell are read and evaluated by the reference path, which decides them exactly.
    """
    raw = pl.col(name)
    given = raw.is_not_null()
    kind = col.kind
    # A cell longer than the layout allows is the reference path's error (bytes >= chars).
    long_cell = raw.str.len_bytes() > MAX_CELL_CHARS
    if kind in ("str", "list"):
        odd = raw.str.contains(_EDGE_SPACE) | (raw.str.len_bytes() == 0)
        if kind == "list":
            odd = odd | raw.str.contains(_EMPTY_ITEM)
        return None, raw, (given & (odd | long_cell))
    if kind == "enum":
        return None, raw, (given & ~raw.is_in(list(col.choices)))
    if kind == "bool":
        flag = (
            pl.when(raw.is_in(["true", "yes"]))
            .then(pl.lit(True))
            .when(raw.is_in(["false", "no"]))
            .then(pl.lit(False))
        )
        return None, flag, (given & flag.is_null())
    typed = pl.col(name + TYPED)
    if kind == "date":
        value = raw.str.to_date("%Y-%m-%d", strict=False, cache=False)
        year = typed.dt.year()  # outside the patient model's range: its error, by reference
        odd = (
            typed.is_null()
            | (raw.str.len_bytes() != 10)
            | (year < DATE_MIN.year)
            | (year > DATE_MAX.year)
        )
    elif kind == "int":
        value = raw.cast(pl.Int64, strict=False)
        odd = typed.is_null() | (raw.str.len_bytes() > 9)
    elif kind == "float":
        value = raw.cast(pl.Float64, strict=False)
        odd = typed.is_null() | ~raw.str.contains(FLOAT_RE) | typed.is_infinite()
    else:
        raise AssertionError(kind)
    return value.alias(name + TYPED), typed, (given & (odd | long_cell))


@dataclass(frozen=True)
class Typing:
    """How to type a raw batch: typed values (parsed once), final columns, the "unusual
    cell" flag and the model-rule flag."""

    values: list[pl.Expr]
    exprs: list[pl.Expr]
    cells: pl.Expr
    rules: pl.Expr


def _lab_col(part: str) -> Col:
    return next(c for c in LAB_COLS if c.field == part)


def typing_exprs(header: Header, as_of: dt.date | None = None) -> Typing:
    """The expressions of :func:`type_batch` for a header (built once per run); with
    ``as_of``, rows with values impossible on that screening date are flagged too."""
    values: list[pl.Expr] = []
    exprs: list[pl.Expr] = []
    bad: list[pl.Expr] = []

    def add(name: str, col: Col) -> None:
        value, final, flag = _typed(name, col)
        if value is not None:
            values.append(value)
        exprs.append(final.alias(name))
        bad.append(flag)

    for name, col in header.scalars.items():
        add(name, col)
    for cols in header.labs.values():
        for part, name in cols.items():
            add(name, _lab_col(part))
    for group in GROUPS:
        if group.marker in header.markers:
            m = pl.col(group.marker)
            exprs.append(m)
            bad.append(m.is_not_null() & ~m.is_in(list(MARKERS)))
        for cols in header.slots.get(group.marker, {}).values():
            for col in group.cols:
                if col.suffix in cols:
                    add(cols[col.suffix], col)
    flags = [f.fill_null(True) for f in bad]
    cells = pl.any_horizontal(flags) if flags else pl.lit(False)
    rules = _model_rules(header, as_of).fill_null(True)
    return Typing(values, exprs, cells.alias("__cells"), rules)


def type_batch(
    raw: pl.DataFrame,
    header: Header,
    typing: Typing | None = None,
) -> tuple[pl.DataFrame, pl.Series]:
    """Typed columns for a raw batch, and a boolean Series: rows for the reference path.

    A row is flagged when a cell is unusual (see :func:`_typed`) or the row breaks a rule of
    the patient model (a therapy with neither drugs nor regimen, an end before the start, ECOG
    outside 0-5, a list marker contradicting its slots, ...). Flagged rows are read and
    evaluated by the reference path: an error record with the exact message, or verdicts.
    ``typing`` is :func:`typing_exprs` of the header, when already built.
    """
    t = typing or typing_exprs(header)
    typed = raw.with_columns(t.values).select(*t.exprs, t.cells)
    rule_bad = typed.select(t.rules).to_series()
    unusual = typed["__cells"] | rule_bad
    return typed.drop("__cells"), unusual


def _c(header: Header, name: str, kind: str = "str") -> pl.Expr:
    """A typed column, or an all-null literal when the file lacks it."""
    present = name in header.columns
    return pl.col(name) if present else pl.lit(None, dtype=_KIND_DTYPE[kind])


def _slot_present(header: Header, group: Group, k: int) -> pl.Expr:
    cols = header.slots.get(group.marker, {}).get(k, {})
    if not cols:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(c).is_not_null() for c in cols.values()])


def _sc(header: Header, group: Group, k: int, suffix: str) -> pl.Expr:
    """Typed column of slot k of a group (null literal when absent)."""
    col = next(c for c in group.cols if c.suffix == suffix)
    name = header.slots.get(group.marker, {}).get(k, {}).get(suffix)
    return pl.col(name) if name else pl.lit(None, dtype=_KIND_DTYPE[col.kind])


def _oldest_birth(as_of: dt.date) -> dt.date:
    """The latest birth date giving an age over 130 on ``as_of`` (as :func:`P.age_on`)."""
    year = as_of.year - MAX_AGE - 1
    if year < 1:
        return dt.date.min
    try:
        return as_of.replace(year=year)
    except ValueError:  # 29 February
        return dt.date(year, 2, 28)


def _model_rules(header: Header, as_of: dt.date | None = None) -> pl.Expr:
    """Rows breaking a rule of the patient model that single cells cannot show (and, with
    ``as_of``, values impossible on the screening date: a birth date after it or more than
    130 years before it)."""
    c = partial(_c, header)
    rules: list[pl.Expr] = []
    if as_of is not None:
        born = c("birth_date", "date")
        oldest = _oldest_birth(as_of)
        rules.append(born > pl.lit(as_of, dtype=pl.Date))
        rules.append(born <= pl.lit(oldest, dtype=pl.Date))
    rules += [
        c("id").is_null(),
        c("age", "int").is_not_null() & ((c("age", "int") < 0) | (c("age", "int") > 130)),
        c("ecog", "int").is_not_null() & ((c("ecog", "int") < 0) | (c("ecog", "int") > 5)),
        c("ecog", "int").is_null() & c("ecog_date", "date").is_not_null(),
        c("disease_response").is_null()
        & c("disease_state").is_null()
        & pl.any_horizontal(
            c("disease_response_date", "date").is_not_null(),
            c("disease_response_assessed_by").is_not_null(),
            c("disease_response_after_line", "int").is_not_null(),
            c("disease_state_after_line", "int").is_not_null(),
        ),
        c("disease_response").is_null()
        & pl.any_horizontal(
            c("disease_response_assessed_by").is_not_null(),
            c("disease_response_after_line", "int").is_not_null(),
        ),
        c("disease_state").is_null() & c("disease_state_after_line", "int").is_not_null(),
        c("disease_response_after_line", "int") < 1,
        c("disease_state_after_line", "int") < 1,
        pl.any_horizontal(
            c("donor_relation").is_not_null(),
            c("donor_hla_match").is_not_null(),
            c("donor_mismatched_loci").is_not_null(),
        )
        & ~(
            c("donor_relation").is_in(["related", "unrelated"]).fill_null(False)
            & c("donor_hla_match").str.contains(r"^\d{1,2}/\d{1,2}$").fill_null(False)
        ),
    ]
    for lab_id, cols in header.labs.items():
        value = pl.col(cols["value"])
        details = [pl.col(n).is_not_null() for p, n in cols.items() if p != "value"]
        if details:
            rules.append(value.is_null() & pl.any_horizontal(details))
        unit = pl.col(cols["unit"]) if "unit" in cols else pl.lit(None, dtype=pl.Utf8)
        rules.append(value.is_not_null() & unit.is_null())
        rules.append(value < 0)
        if "uln" in cols:
            rules.append(pl.col(cols["uln"]) <= 0)
        del lab_id
    required = {
        "diagnoses": None,
        "therapies": None,
        "procedures": ("type",),
        "transfusions": ("status", "start"),
        "conditions": ("name",),
        "prior_malignancies": ("condition",),
        "hypersensitivities": ("agent",),
        "attestations": ("trial", "criterion", "holds", "by", "on"),
    }
    for group in GROUPS:
        marker = (
            _c(header, group.marker)
            if group.marker in header.markers
            else pl.lit(None, dtype=pl.Utf8)
        )
        ks = sorted(header.slots.get(group.marker, {}))
        any_item = (
            pl.any_horizontal([_slot_present(header, group, k) for k in ks])
            if ks
            else pl.lit(False)
        )
        rules.append((marker == NONE_MARKER) & any_item)
        if group.marker in ("diagnoses", "attestations"):
            rules.append(marker == PARTIAL_MARKER)
        for k in ks:
            present = _slot_present(header, group, k)
            s = partial(_sc, header, group, k)
            for suffix in required[group.marker] or ():
                rules.append(present & s(suffix).is_null())
            if group.marker == "diagnoses":
                rules.append(present & s("condition").is_null() & s("code").is_null())
                rules.append(
                    present
                    & s("risk_system").is_null()
                    & pl.any_horizontal(
                        s("risk_category").is_not_null(), s("risk_date").is_not_null()
                    )
                )
                rules.append(
                    present & s("risk_category").is_null() & s("risk_system").is_not_null()
                )
            if group.marker == "therapies":
                rules.append(present & s("drugs").is_null() & s("regimen").is_null())
                rules.append((s("end") < s("start")).fill_null(False))
                rules.append((s("line") < 1).fill_null(False))
                rules.append((s("cycles") < 0).fill_null(False))
                rules.append(s("ti_at_end").eq(True) & s("ti_reached").eq(False))
                ongoing = s("ongoing").eq(True) | s("outcome").eq(TherapyOutcome.ongoing.value)
                rules.append(s("ti_at_end").is_not_null() & s("end").is_null() & ongoing)
    return pl.any_horizontal([r.fill_null(False) for r in rules])


# ------------------------------------------------------------------------------------------
# Compilation


# Answers kept per vocabulary mapping across batches; beyond this many distinct values the
# memo starts afresh (answers are recomputed, never wrong).
MEMO_LIMIT = 100_000


@dataclass
class _Mapping:
    """One vocabulary question, answered once per distinct key value over the whole run."""

    out: str
    key: str
    fn: Callable[[Any], Any]
    dtype: Any
    memo: dict[Any, Any] = field(default_factory=dict)


@dataclass
class _Criterion:
    name: str
    trial: str
    criterion: str
    plain: pl.Expr
    attested: pl.Expr | None


class Plan:
    """Every criterion of the selected trials compiled once per run, for one CSV header.

    Compilers build expressions against the header (never against data); what depends on
    the data of a batch (per-value vocabulary answers, exposure totals, which criteria carry
    attestations) is computed per batch by :meth:`run`, from steps registered while compiling.

    >>> # plan = Plan(trials, header, vocab, as_of); codes = plan.run(typed_rows)
    """

    def __init__(
        self, trials: Sequence[Trial], header: Header, vocab: Vocabulary, as_of: dt.date
    ) -> None:
        self.header = header
        self.vocab = vocab
        self.as_of = as_of
        self.day = pl.lit(as_of, dtype=pl.Date)
        self._memo: dict[Any, pl.Expr] = {}
        self._names: dict[Any, str] = {}
        self._keys: dict[str, tuple[str, pl.Expr]] = {}
        self._maps: list[_Mapping] = []
        self._steps: list[Callable[[pl.DataFrame], pl.DataFrame]] = []
        self._shared: dict[Any, str] = {}
        self._stages: list[list[pl.Expr]] = []
        self._level: dict[str, int] = {}
        self._exposure: dict[Any, tuple[str, str]] = {}
        self._flags: list[pl.Expr] = []
        for group in GROUPS:
            ks = self.ks(group.marker)
            for k in ks:
                self._flags.append(_slot_present(header, group, k).alias(f"__p_{group.prefix}{k}"))
            marker = (
                pl.col(group.marker).is_not_null()
                if group.marker in header.markers
                else pl.lit(False)
            )
            items = [_slot_present(header, group, k) for k in ks]
            self._flags.append(pl.any_horizontal([marker, *items]).alias(f"__r_{group.prefix}"))
            partial_list = (
                (pl.col(group.marker) == PARTIAL_MARKER).fill_null(False)
                if group.marker in header.markers
                else pl.lit(False)
            )
            self._flags.append(partial_list.alias(f"__q_{group.prefix}"))
        self.typing = typing_exprs(header, as_of)
        self._criteria: list[_Criterion] = []
        for trial in trials:
            for kind, criterion in trial.criteria:
                code = lit(REVIEW) if criterion.rule is None else compile_rule(criterion.rule, self)
                self._criteria.append(
                    _Criterion(
                        f"{trial.id}/{kind}:{criterion.id}",
                        trial.id,
                        criterion.id,
                        code,
                        attested(self, trial.id, criterion.id, code)
                        if self.ks("attestations")
                        else None,
                    )
                )
        self._leaves = [self._memo[k].alias(n) for k, n in self._names.items()]

    def run(self, df: pl.DataFrame) -> pl.DataFrame:
        """Verdict codes of every criterion for a typed batch (columns ``row``, ``id`` and
        ``<trial id>/<kind>:<criterion id>``)."""
        df = df.with_columns(self._flags)
        if self._maps:
            df = df.with_columns([expr.alias(name) for name, expr in self._keys.values()])
            names = [name for name, _ in self._keys.values()]
            uniques = df.select(pl.col(n).drop_nulls().unique().implode() for n in names).row(0)
            distinct = dict(zip(names, uniques, strict=True))
            # Each key column becomes a code: the index of its value in the batch's distinct
            # values; every mapping is then a gather from a small Series of answers.
            df = df.with_columns(
                pl.col(n).replace_strict(
                    distinct[n], range(len(distinct[n])), return_dtype=pl.UInt32
                )
                for n in names
                if distinct[n]
            )
            outputs = []
            for m in self._maps:
                values = distinct[m.key]
                if not values:
                    outputs.append(pl.lit(None, dtype=m.dtype).alias(m.out))
                    continue
                memo = m.memo
                if len(memo) > MEMO_LIMIT:  # keep memory bounded on free-text keys
                    memo.clear()
                for v in values:
                    if v not in memo:
                        memo[v] = m.fn(v)
                answers = pl.Series([memo[v] for v in values], dtype=m.dtype)
                outputs.append(pl.lit(answers).gather(pl.col(m.key)).alias(m.out))
            df = df.with_columns(outputs).drop(names)
        for stage in self._stages:
            df = df.with_columns(stage)
        for step in self._steps:
            df = step(df)
        df = df.with_columns(self._leaves)
        attested_here = self._attestation_keys(df)
        return df.select(
            pl.col("row"),
            pl.col("id"),
            *(
                (
                    c.attested
                    if c.attested is not None and (c.trial, c.criterion) in attested_here
                    else c.plain
                ).alias(c.name)
                for c in self._criteria
            ),
        )

    def _attestation_keys(self, df: pl.DataFrame) -> set[tuple[str, str]]:
        """(trial, criterion) pairs attested anywhere in this batch."""
        pairs: set[tuple[str, str]] = set()
        for k in self.ks("attestations"):
            frame = df.select(
                self.s("attestations", k, "trial").alias("t"),
                self.s("attestations", k, "criterion").alias("c"),
            )
            pairs |= {(t, c) for t, c in frame.unique().iter_rows() if t and c}
        return pairs

    def leaf(self, key: Any, compile_leaf: Callable[[], pl.Expr]) -> pl.Expr:
        """The column of a leaf, compiled on first sight."""
        if key not in self._memo:
            self._memo[key] = compile_leaf()
            self._names[key] = f"__leaf{len(self._names)}"
        return pl.col(self._names[key])

    def shared(self, key: Any, build: Callable[[], pl.Expr]) -> pl.Expr:
        """A column computed once per batch, before the leaves, for a sub-expression several
        leaves (or several parts of one leaf) use: it keeps expression trees small, which
        is what Polars' per-batch planning time grows with. ``build`` may use mapped columns
        and other shared columns (computed in an earlier stage), not the output of a step;
        steps may use shared columns."""
        if key not in self._shared:
            expr = build()
            name = f"__sh{len(self._shared)}"
            level = 1 + max((self._level.get(n, -1) for n in expr.meta.root_names()), default=-1)
            while len(self._stages) <= level:
                self._stages.append([])
            self._stages[level].append(expr.alias(name))
            self._level[name] = level
            self._shared[key] = name
        return pl.col(self._shared[key])

    def c(self, name: str, kind: str = "str") -> pl.Expr:
        """A typed column (null literal when the file lacks it)."""
        return _c(self.header, name, kind)

    def group(self, marker: str) -> Group:
        """The layout group of a list."""
        return next(g for g in GROUPS if g.marker == marker)

    def ks(self, marker: str) -> list[int]:
        """Slot numbers present for a list."""
        return sorted(self.header.slots.get(marker, {}))

    def s(self, marker: str, k: int, suffix: str) -> pl.Expr:
        """A slot column."""
        return _sc(self.header, self.group(marker), k, suffix)

    def present(self, marker: str, k: int) -> pl.Expr:
        """Whether slot k of a list holds an item (precomputed)."""
        return pl.col(f"__p_{self.group(marker).prefix}{k}")

    def recorded(self, marker: str) -> pl.Expr:
        """Whether the list is recorded at all (marker 'none', or any item; precomputed)."""
        return pl.col(f"__r_{self.group(marker).prefix}")

    def partial(self, marker: str) -> pl.Expr:
        """Whether the list is known only in part (marker 'partial'; precomputed)."""
        return pl.col(f"__q_{self.group(marker).prefix}")

    def later(self, date: pl.Expr) -> pl.Expr:
        """Whether a date lies after the screening date (false when null)."""
        return (date > self.day).fill_null(False)

    def mapped(self, key: pl.Expr, fn: Callable[[Any], Any], dtype: Any) -> pl.Expr:
        """A column holding ``fn`` of ``key``: per batch, ``fn`` is called only for distinct
        values not seen earlier in the run, and the answers are mapped back. ``key`` may read
        typed columns and the slot flags (:meth:`present`, :meth:`recorded`, :meth:`partial`),
        never a shared column (keys are computed first)."""
        cache_key = str(key)
        if cache_key not in self._keys:
            self._keys[cache_key] = (f"__key{len(self._keys)}", key)
        out = f"__map{len(self._maps)}"
        self._maps.append(_Mapping(out, self._keys[cache_key][0], fn, dtype))
        return pl.col(out)

    def step(self, fn: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
        """Register a per-batch step (run after mappings and shared columns, before leaves)."""
        self._steps.append(fn)

    def lab_id(self, term: str) -> str:
        """Canonical lab id of a term."""
        return self.vocab.lab_id(term) or term


def _key(*exprs: pl.Expr) -> pl.Expr:
    """An unambiguous string key for several (nullable) string columns: each part is written
    as ``<length>:<text>`` or ``~`` for null, so no cell content can shift the others."""
    parts = []
    for e in exprs:
        text = e.cast(pl.Utf8)
        parts.append(
            pl.when(text.is_null())
            .then(pl.lit("~"))
            .otherwise(pl.format("{}:{}", text.str.len_chars(), text))
        )
    return pl.concat_str(parts)


def _split(key: str, n: int) -> list[str | None]:
    """The parts of a :func:`_key`."""
    out: list[str | None] = []
    i = 0
    while i < len(key) and len(out) < n:
        if key[i] == "~":
            out.append(None)
            i += 1
            continue
        colon = key.index(":", i)
        length = int(key[i:colon])
        out.append(key[colon + 1 : colon + 1 + length])
        i = colon + 1 + length
    return out


def _items(text: str | None) -> list[str]:
    return [x.strip() for x in text.split(LIST_SEP)] if text else []


def _bounds(args: P.Bounds, x: pl.Expr) -> pl.Expr:
    """Boolean: x within every bound, compared with the reference's exact thresholds."""
    ops = {"≥": x.__ge__, "≤": x.__le__, ">": x.__gt__, "<": x.__lt__}
    return pl.all_horizontal([ops[sym](pl.lit(P.threshold(sym, v))) for sym, v in args.bounds()])


def _tri(ok: pl.Expr) -> pl.Expr:
    return pl.when(ok).then(lit(MET)).otherwise(lit(NOT_MET))


def _any(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal([e.fill_null(False) for e in exprs]) if exprs else pl.lit(False)


def _all(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return pl.all_horizontal([e.fill_null(False) for e in exprs]) if exprs else pl.lit(True)


def _combine_items(
    recorded: pl.Expr,
    met: Sequence[pl.Expr],
    open_: Sequence[pl.Expr],
    partial_list: pl.Expr | None = None,
) -> pl.Expr:
    """List semantics: not recorded -> unknown; any item met -> met; any open -> unknown; a
    list known only in part (``partial_list``) -> unknown; otherwise not met."""
    undecided = _any(open_) if partial_list is None else _any(open_) | partial_list
    return (
        pl.when(~recorded)
        .then(lit(UNKNOWN))
        .when(_any(met))
        .then(lit(MET))
        .when(undecided)
        .then(lit(UNKNOWN))
        .otherwise(lit(NOT_MET))
    )


Compiler = Callable[[Any, Plan], pl.Expr]
COMPILERS: dict[str, Compiler] = {}


def compiles(name: str) -> Callable[[Compiler], Compiler]:
    """Register the columnar compiler of a predicate."""

    def wrap(fn: Compiler) -> Compiler:
        COMPILERS[name] = fn
        return fn

    return wrap


def compile_rule(node: BaseModel, b: Plan) -> pl.Expr:
    """Compile a rule tree into one verdict-code expression (Kleene logic, as the engine)."""
    if isinstance(node, AllNode | AnyNode):
        kids = [compile_rule(c, b) for c in (node.all if isinstance(node, AllNode) else node.any)]
        if len(kids) == 1:
            return kids[0]
        decisive, other = (NOT_MET, MET) if isinstance(node, AllNode) else (MET, NOT_MET)
        return (
            pl.when(pl.any_horizontal([k == decisive for k in kids]))
            .then(lit(decisive))
            .when(pl.all_horizontal([k == other for k in kids]))
            .then(lit(other))
            .when(pl.any_horizontal([k == UNKNOWN for k in kids]))
            .then(lit(UNKNOWN))
            .otherwise(lit(REVIEW))
        )
    if isinstance(node, NotNode):
        kid = compile_rule(node.not_, b)
        return (
            pl.when(kid == MET)
            .then(lit(NOT_MET))
            .when(kid == NOT_MET)
            .then(lit(MET))
            .otherwise(kid)
        )
    if isinstance(node, AtLeastNode):
        kids = [compile_rule(c, b) for c in node.at_least.of]
        met = pl.sum_horizontal([(k == MET).cast(pl.Int32) for k in kids])
        undecided = [(k == UNKNOWN) | (k == REVIEW) for k in kids]
        n_open = pl.sum_horizontal([u.cast(pl.Int32) for u in undecided])
        return (
            pl.when(met >= node.at_least.n)
            .then(lit(MET))
            .when(met + n_open < node.at_least.n)
            .then(lit(NOT_MET))
            .when(pl.any_horizontal([k == UNKNOWN for k in kids]))
            .then(lit(UNKNOWN))
            .otherwise(lit(REVIEW))
        )
    name = next(iter(type(node).model_fields))
    args = getattr(node, name)
    return b.leaf(("leaf", name, args.model_dump_json()), partial(COMPILERS[name], args, b))


def unsupported() -> list[str]:
    """Registered predicates without a columnar compiler (should be empty)."""
    return sorted(set(P.REGISTRY) - set(COMPILERS))


# ------------------------------------------------------------------------------------------
# Demographics


@compiles("review")
def _review(args: P.ReviewArgs, b: Plan) -> pl.Expr:
    return lit(REVIEW)


def _age_years(b: Plan) -> pl.Expr:
    bd = b.c("birth_date", "date")
    m, d = b.as_of.month, b.as_of.day
    later = (bd.dt.month() > m) | ((bd.dt.month() == m) & (bd.dt.day() > d))
    return pl.lit(b.as_of.year) - bd.dt.year().cast(pl.Int64) - later.cast(pl.Int64)


@compiles("age")
def _age(args: P.AgeArgs, b: Plan) -> pl.Expr:
    bd, age = b.c("birth_date", "date"), b.c("age", "int")
    return (
        pl.when(bd.is_not_null() & (bd > b.day))
        .then(lit(UNKNOWN))
        .when(bd.is_not_null())
        .then(_tri(_bounds(args, _age_years(b))))
        .when(age.is_not_null())
        .then(_tri(_bounds(args, age)))
        .otherwise(lit(UNKNOWN))
    )


@compiles("sex")
def _sex(args: P.SexArgs, b: Plan) -> pl.Expr:
    sex = b.c("sex")
    return (
        pl.when(sex.is_null())
        .then(lit(UNKNOWN))
        .otherwise(_tri(sex.is_in([s.value for s in args.one_of])))
    )


@compiles("pregnancy")
def _pregnancy(args: P.PregnancyArgs, b: Plan) -> pl.Expr:
    values = {"pregnant": b.c("pregnant", "bool"), "breastfeeding": b.c("breastfeeding", "bool")}
    yes = _any([values[s].eq(True) for s in args.states])
    unknown = _any([values[s].is_null() for s in args.states])
    return (
        pl.when((b.c("sex") == "male").fill_null(False))
        .then(lit(NOT_MET))
        .when(yes)
        .then(lit(MET))
        .when(unknown)
        .then(lit(UNKNOWN))
        .otherwise(lit(NOT_MET))
    )


@compiles("childbearing_potential")
def _childbearing(args: P.ChildbearingArgs, b: Plan) -> pl.Expr:
    v = b.c("childbearing_potential", "bool")
    return pl.when(v.is_null()).then(lit(UNKNOWN)).otherwise(_tri(v == args.is_))


# ------------------------------------------------------------------------------------------
# ECOG and labs


def _stale(date: pl.Expr, max_age_days: int | None, b: Plan) -> pl.Expr:
    if max_age_days is None:
        return pl.lit(False)
    return date.is_null() | ((b.day - date).dt.total_days() > max_age_days)


@compiles("ecog")
def _ecog(args: P.EcogArgs, b: Plan) -> pl.Expr:
    v, d = b.c("ecog", "int"), b.c("ecog_date", "date")
    return (
        pl.when(v.is_null())
        .then(lit(UNKNOWN))
        .when((d > b.day).fill_null(False))
        .then(lit(UNKNOWN))
        .when(_stale(d, args.max_age_days, b))
        .then(lit(UNKNOWN))
        .otherwise(_tri(_bounds(args, v)))
    )


def _lab(b: Plan, lab_id: str) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(usable, value, unit, date, uln) of the CSV's result for a lab: a result dated after
    the screening date is not usable (as in the reference, which ignores it)."""
    cols = b.header.labs.get(lab_id, {})
    get = {
        p: (pl.col(cols[p]) if p in cols else pl.lit(None, dtype=_KIND_DTYPE[_lab_col(p).kind]))
        for p in ("value", "unit", "date", "uln")
    }
    usable = get["value"].is_not_null() & (get["date"].is_null() | (get["date"] <= b.day))
    return usable.fill_null(False), get["value"], get["unit"], get["date"], get["uln"]


def _to_unit(b: Plan, lab_id: str, value: pl.Expr, unit: pl.Expr, to_unit: str) -> pl.Expr:
    """``value / src * dst`` exactly as :meth:`Vocabulary.convert`; null if not convertible."""
    dst = b.vocab.lab_factor(lab_id, to_unit)
    src = b.mapped(unit, lambda u: b.vocab.lab_factor(lab_id, u), pl.Float64)
    if dst is None:
        return pl.lit(None, dtype=pl.Float64)
    return value / src * pl.lit(float(dst))


@compiles("lab")
def _lab_rule(args: P.LabArgs, b: Plan) -> pl.Expr:
    lab_id = b.lab_id(args.analyte)
    usable, value, unit, date, uln = _lab(b, lab_id)
    if args.derive and lab_id == "creatinine_clearance" and args.unit is not None:
        absent: pl.Expr = _cockcroft_gault(args, b)
    else:
        absent = lit(UNKNOWN)
    stale = _stale(date, args.max_age_days, b)
    settling = args.settling_condition()
    if settling is None or args.condition_settles is None:
        return _lab_code(args, b, usable, value, unit, uln, stale, absent, lab_id)
    found = b.shared(("settles", settling.model_dump_json()), partial(_condition, settling, b))
    verdict = lit(MET if args.condition_settles.verdict == "met" else NOT_MET)
    # A current condition settles it before a derived (Cockcroft-Gault) estimate; a measured
    # result decides first.
    absent = pl.when(found == MET).then(verdict).otherwise(absent)
    result = _lab_code(args, b, usable, value, unit, uln, stale, absent, lab_id)
    return pl.when((result == UNKNOWN) & (found == MET)).then(verdict).otherwise(result)


def _lab_code(
    args: P.LabArgs,
    b: Plan,
    usable: pl.Expr,
    value: pl.Expr,
    unit: pl.Expr,
    uln: pl.Expr,
    stale: pl.Expr,
    absent: pl.Expr,
    lab_id: str,
) -> pl.Expr:
    if args.relative_to == "uln":
        ratio = value / uln
        decided = (
            pl.when(uln.is_null() | (uln <= 0))
            .then(lit(UNKNOWN))
            .otherwise(_tri(_bounds(args, ratio)))
        )
    else:
        assert args.unit is not None
        conv = _to_unit(b, lab_id, value, unit, args.unit)
        decided = pl.when(conv.is_null()).then(lit(UNKNOWN)).otherwise(_tri(_bounds(args, conv)))
    return pl.when(~usable).then(absent).when(stale).then(lit(UNKNOWN)).otherwise(decided)


def _cockcroft_gault(args: P.LabArgs, b: Plan) -> pl.Expr:
    scr_ok, scr_v, scr_u, scr_d, _ = _lab(b, "creatinine")
    wt_ok, wt_v, wt_u, wt_d, _ = _lab(b, "weight")
    scr = _to_unit(b, "creatinine", scr_v, scr_u, "mg/dL")
    wt = _to_unit(b, "weight", wt_v, wt_u, "kg")
    inputs_ok = (
        scr_ok
        & ~_stale(scr_d, args.max_age_days, b)
        & scr.is_not_null()
        & wt_ok
        & ~_stale(wt_d, args.max_age_days, b)
        & wt.is_not_null()
    )
    bd, age_col = b.c("birth_date", "date"), b.c("age", "int")
    age = (
        pl.when(bd.is_not_null() & (bd <= b.day))
        .then(_age_years(b))
        .when(bd.is_null())
        .then(age_col)
    )
    sex = b.c("sex")
    sex_ok = sex.is_in(["female", "male"]).fill_null(False)
    factor = pl.when(sex == "female").then(pl.lit(0.85)).otherwise(pl.lit(1.0))
    crcl = (pl.lit(140) - age).cast(pl.Float64) * wt / (pl.lit(72.0) * scr) * factor
    dst = b.vocab.lab_factor("creatinine_clearance", args.unit or "mL/min")
    value = crcl / pl.lit(1.0) * pl.lit(float(dst or 1.0))
    ready = (inputs_ok & age.is_not_null() & sex_ok).fill_null(False)
    return (
        pl.when(~ready)
        .then(lit(UNKNOWN))
        .when(scr <= 0)
        .then(lit(UNKNOWN))
        .otherwise(_tri(_bounds(args, value)))
    )


# ------------------------------------------------------------------------------------------
# Diagnoses


def _dx_now(b: Plan, k: int) -> pl.Expr:
    """Diagnosis slot k holds a diagnosis made by the screening date (or undated)."""
    return b.shared(
        ("dx", "now", k),
        lambda: b.present("diagnoses", k) & ~b.later(b.s("diagnoses", k, "date")),
    )


@compiles("diagnosis")
def _diagnosis(args: P.DiagnosisArgs, b: Plan) -> pl.Expr:
    vocab = b.vocab
    target = vocab.condition_id(args.condition) or args.condition

    def category(key: str) -> int:
        condition, code, subtype, classification = _split(key, 4)
        cid = P.condition_of(vocab, condition, code, subtype)
        if cid is None:
            return UNKNOWN
        if not vocab.condition_is_a(cid, target):
            return UNKNOWN if vocab.condition_is_a(target, cid) else NOT_MET
        if args.classification_in:
            if classification is None:
                return UNKNOWN
            if not P.classification_matches(classification, args.classification_in):
                return NOT_MET
        return MET

    met, open_ = [], []
    for k in b.ks("diagnoses"):
        s = partial(b.s, "diagnoses", k)
        cat = b.mapped(
            _key(s("condition"), s("code"), s("subtype"), s("classification")), category, CODE
        )
        present = _dx_now(b, k)
        met.append(present & (cat == MET))
        open_.append(present & (cat == UNKNOWN))
    return _combine_items(b.recorded("diagnoses"), met, open_)


@compiles("finding")
def _finding(args: P.FindingArgs, b: Plan) -> pl.Expr:
    keys = {P._finding_key(n) for n in [args.name, *args.aliases]}

    def has(text: str) -> bool:
        return any(P._finding_key(x) in keys for x in _items(text))

    present, absent = [], []
    for k in b.ks("diagnoses"):
        now = _dx_now(b, k)
        present.append(now & b.mapped(b.s("diagnoses", k, "findings"), has, pl.Boolean))
        absent.append(now & b.mapped(b.s("diagnoses", k, "findings_absent"), has, pl.Boolean))
    return (
        pl.when(_any(present))
        .then(lit(MET))
        .when(_any(absent))
        .then(lit(NOT_MET))
        .otherwise(lit(UNKNOWN))
    )


@compiles("risk_score")
def _risk_score(args: P.RiskScoreArgs, b: Plan) -> pl.Expr:
    system = normalise(args.system)
    wanted = {normalise(c) for c in args.category_in}
    dated: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = []
    undated: list[tuple[pl.Expr, pl.Expr]] = []
    for k in b.ks("diagnoses"):
        sys_k = _dx_now(b, k) & b.mapped(
            b.s("diagnoses", k, "risk_system"), lambda v: normalise(v) == system, pl.Boolean
        ).fill_null(False)
        cat_k = b.mapped(
            b.s("diagnoses", k, "risk_category"), lambda v: normalise(v) in wanted, pl.Boolean
        )
        date_k = b.s("diagnoses", k, "risk_date")
        dated.append(((sys_k & (date_k <= b.day)).fill_null(False), date_k, cat_k))
        undated.append((sys_k & date_k.is_null(), cat_k))
    if not dated:
        return lit(UNKNOWN)
    # The latest dated score on or before the screening date (first slot on ties), else the
    # first undated one: as the reference's stable sort.
    best = pl.max_horizontal([pl.when(ok).then(d) for ok, d, _ in dated])
    from_dated = pl.coalesce([pl.when(ok & (d == best)).then(c) for ok, d, c in dated])
    from_undated = pl.coalesce([pl.when(u).then(c) for u, c in undated])
    chosen = pl.when(best.is_not_null()).then(from_dated).otherwise(from_undated)
    return pl.when(chosen.is_null()).then(lit(UNKNOWN)).otherwise(_tri(chosen))


# ------------------------------------------------------------------------------------------
# Conditions, malignancies, hypersensitivity, donor, procedures


@compiles("condition")
def _condition(args: P.ConditionArgs, b: Plan) -> pl.Expr:
    vocab = b.vocab
    targets = [vocab.condition_id(c) or c for c in args.any_of]
    every_status = set(args.status_in) >= set(P._ANY_PRESENT)

    def kind(name: str) -> int:
        cid = vocab.condition_id(name)
        if cid is None:
            return UNKNOWN
        return MET if any(vocab.condition_is_a(cid, t) for t in targets) else NOT_MET

    def relation(target: str, name: str) -> int:  # 1: the target, 2: broader than it, 0: other
        cid = vocab.condition_id(name)
        if cid is None or not vocab.condition_is_a(target, cid):
            return 0
        return 1 if cid == target else 2

    met, open_ = [], []
    settled: dict[str, list[pl.Expr]] = {t: [] for t in targets}
    for k in b.ks("conditions"):
        name = b.s("conditions", k, "name")
        cat = b.mapped(name, kind, CODE)
        status = b.s("conditions", k, "status")
        since = b.s("conditions", k, "since")
        present = b.shared(
            ("condition", "now", k), partial(b.present("conditions", k).__and__, ~b.later(since))
        )
        no_status = status.is_null()
        accepted = status.is_in(list(args.status_in)).fill_null(False)
        if every_status:
            accepted = accepted | no_status
        met.append(present & (cat == MET) & accepted)
        unsure = (status == "unknown").fill_null(False)
        if not every_status:
            unsure = unsure | no_status
        open_.append(present & ((cat == UNKNOWN) | ((cat == MET) & unsure)))
        for t in targets:
            rel = b.mapped(name, partial(relation, t), CODE)
            decided = status.is_not_null() & (status != "unknown") & ~accepted
            settled[t].append(
                present & (((rel == 1) & decided) | ((rel >= 1) & (status == "absent")))
            )
    open_list = b.partial("conditions") & ~_all([_any(v) for v in settled.values()])
    return _combine_items(b.recorded("conditions"), met, open_, open_list)


def _malignancy_items(args: P.PriorMalignancyArgs, b: Plan, k: int) -> tuple[pl.Expr, pl.Expr]:
    """(recent, open) for prior malignancy slot k, before exceptions (shared columns: the
    same measure and period give the same answer in every criterion that asks)."""
    whole = int(args.years // 1)
    extra_days = round((args.years - whole) * 365.25) if args.years != whole else 0
    shift = 1 if args.elapsed == "more_than" else 0
    s = partial(b.s, "prior_malignancies", k)
    curative = s("curative_intent")

    def clears_on(event: pl.Expr) -> pl.Expr:
        moved = event.dt.offset_by(f"{whole}y")
        feb29 = (event.dt.month() == 2) & (event.dt.day() == 29)
        moved = (
            pl.when(feb29 & (moved.dt.day() == 28))
            .then(moved + pl.duration(days=1))
            .otherwise(moved)
        )  # 29 Feb -> 1 Mar, as add_years
        return moved + pl.duration(days=extra_days + shift)

    def within(event: pl.Expr) -> pl.Expr:
        key = ("malignancy", "within", args.measure, whole, extra_days + shift, k)
        return b.shared(key, lambda: (b.day < clears_on(event)).fill_null(False))

    if args.measure == "disease_free":
        # Inside the window: recent whatever the intent; past it, intent decides (if asked).
        dfs = s("disease_free_since")
        not_curative = pl.lit(args.require_curative_intent) & curative.eq(False)
        recent_now = not_curative.fill_null(False) | (
            dfs.is_null() & s("in_remission").eq(False).fill_null(False)
        )
        inside = dfs.is_not_null() & within(dfs)
        intent_open = pl.lit(args.require_curative_intent) & curative.is_null()
        open_here = dfs.is_null() | (dfs.is_not_null() & ~inside & intent_open)
        return recent_now | inside, ~recent_now & open_here
    dx, tr = s("diagnosed"), s("last_treatment")
    no_dates = dx.is_null() & tr.is_null()
    event = pl.when(tr.is_null()).then(dx).otherwise(pl.max_horizontal(dx, tr))
    only_dx = tr.is_null() & dx.is_not_null()
    return ~no_dates & within(event), no_dates | (only_dx & ~within(event))


@compiles("prior_malignancy")
def _prior_malignancy(args: P.PriorMalignancyArgs, b: Plan) -> pl.Expr:
    vocab = b.vocab
    excepted = [vocab.condition_id(c) or c for c in args.except_conditions]

    def exception(name: str) -> int:  # MET: excepted, NOT_MET: not, UNKNOWN: unresolved
        if not excepted:
            return NOT_MET
        cid = vocab.condition_id(name)
        if cid is None:
            return UNKNOWN
        return MET if any(vocab.condition_is_a(cid, e) for e in excepted) else NOT_MET

    met, open_ = [], []
    for k in b.ks("prior_malignancies"):
        s = partial(b.s, "prior_malignancies", k)
        present = b.present("prior_malignancies", k) & ~b.later(s("diagnosed"))
        exc = b.mapped(s("condition"), exception, CODE)
        curative = s("curative_intent")
        # Exception handling, as in the reference: unresolved -> open; excepted -> clear
        # (unless it must be curative and is not known to be).
        exc_open = (exc == UNKNOWN) | (
            (exc == MET) & pl.lit(args.exception_requires_curative_treatment) & curative.is_null()
        )
        exc_clear = (exc == MET) & (
            pl.lit(not args.exception_requires_curative_treatment) | curative.eq(True)
        )
        item_met, item_open = _malignancy_items(args, b, k)
        decided_by_exception = exc_open.fill_null(False) | exc_clear.fill_null(False)
        met.append(present & ~decided_by_exception & item_met)
        open_.append(present & (exc_open.fill_null(False) | (~decided_by_exception & item_open)))
    return _combine_items(
        b.recorded("prior_malignancies"), met, open_, b.partial("prior_malignancies")
    )


@compiles("hypersensitivity")
def _hypersensitivity(args: P.HypersensitivityArgs, b: Plan) -> pl.Expr:
    probe = P.HypersensitivityArgs(drugs=args.drugs, classes=args.classes)

    def kind(agent: str) -> int:
        from trialmatch.model.patient import Hypersensitivity, Patient

        patient = Patient(id="x", hypersensitivities=[Hypersensitivity(agent=agent)])
        ev = P.eval_hypersensitivity(probe, P.Context(patient, b.as_of, b.vocab))
        return {"met": MET, "not_met": NOT_MET}.get(ev.verdict.value, UNKNOWN)

    met, open_ = [], []
    for k in b.ks("hypersensitivities"):
        cat = b.mapped(b.s("hypersensitivities", k, "agent"), kind, CODE)
        seen_on = b.s("hypersensitivities", k, "date")
        present = b.present("hypersensitivities", k) & ~b.later(seen_on)
        met.append(present & (cat == MET))
        open_.append(present & (cat == UNKNOWN))
    return _combine_items(
        b.recorded("hypersensitivities"), met, open_, b.partial("hypersensitivities")
    )


@compiles("donor")
def _donor(args: P.DonorArgs, b: Plan) -> pl.Expr:
    def verdict(key: str) -> int:
        from trialmatch.model.patient import Donor, Patient

        relation, hla, loci = _split(key, 3)
        if relation is None or hla is None:
            return UNKNOWN
        donor = Donor(relation=relation, hla_match=hla, mismatched_loci=_items(loci))
        ev = P.eval_donor(args, P.Context(Patient(id="x", donor=donor), b.as_of, b.vocab))
        return {"met": MET, "not_met": NOT_MET}.get(ev.verdict.value, UNKNOWN)

    key = _key(b.c("donor_relation"), b.c("donor_hla_match"), b.c("donor_mismatched_loci"))
    return (
        pl.when(b.c("donor_relation").is_null())
        .then(lit(UNKNOWN))
        .otherwise(b.mapped(key, verdict, CODE))
    )


@compiles("procedure")
def _procedure(args: P.ProcedureArgs, b: Plan) -> pl.Expr:
    wanted = {normalise(c) for c in args.conditioning_in or []}
    met, open_ = [], []
    for k in b.ks("procedures"):
        s = partial(b.s, "procedures", k)
        is_type = b.mapped(s("type"), lambda t: P.procedure_type(t) == args.type, pl.Boolean)
        unknown_type = b.mapped(s("type"), lambda t: P.procedure_type(t) is None, pl.Boolean)
        before = b.present("procedures", k) & ~((s("date") > b.day).fill_null(False))
        counts = before & is_type.fill_null(False)
        open_.append(before & unknown_type.fill_null(False))  # a type trialmatch does not know
        if args.conditioning_in:
            cond_ok = b.mapped(s("conditioning"), lambda c: normalise(c) in wanted, pl.Boolean)
            met.append(counts & cond_ok.fill_null(False))
            open_.append(counts & s("conditioning").is_null())
        else:
            met.append(counts)
    return _combine_items(b.recorded("procedures"), met, open_, b.partial("procedures"))


# ------------------------------------------------------------------------------------------
# Therapies


def _drug_key(b: Plan, k: int) -> pl.Expr:
    return _key(b.s("therapies", k, "drugs"), b.s("therapies", k, "regimen"))


def _known_and_unresolved(vocab: Vocabulary, key: str) -> tuple[frozenset[str], bool]:
    drugs, regimen = _split(key, 2)
    known, unresolved = P.therapy_terms(vocab, _items(drugs), regimen)
    return known, bool(unresolved)


def _dx_key(b: Plan) -> pl.Expr:
    """A key over the (condition, code, subtype) of every diagnosis made by the screening
    date (other slots as nulls): what decides the patient's only diagnosis."""
    parts: list[pl.Expr] = []
    for k in b.ks("diagnoses"):
        # Keys are computed before shared columns: use the slot flag, not _dx_now's column.
        now = b.present("diagnoses", k) & ~b.later(b.s("diagnoses", k, "date"))
        for suffix in ("condition", "code", "subtype"):
            parts.append(pl.when(now).then(b.s("diagnoses", k, suffix)))
    return _key(*parts) if parts else pl.lit("", dtype=pl.Utf8)


def _relation_code(vocab: Vocabulary, cid: str | None, target: str) -> int:
    """MET: ``cid`` is the target or a subtype; NOT_MET: another condition; UNKNOWN: not
    resolved, or broader than the target (a lymphoma may be a T-cell lymphoma)."""
    if cid is None:
        return UNKNOWN
    if vocab.condition_is_a(cid, target):
        return MET
    return UNKNOWN if vocab.condition_is_a(target, cid) else NOT_MET


def _only_diagnosis_is(b: Plan, target: str) -> pl.Expr:
    """Int8 per row: the patient's only diagnosis is ``target`` or a subtype (MET), is another
    condition (NOT_MET), or there is no single diagnosis (UNKNOWN), as
    :func:`predicates.only_diagnosis`."""
    vocab = b.vocab
    n = len(b.ks("diagnoses"))

    def kind(key: str) -> int:
        parts = _split(key, 3 * n)
        triples = [
            (parts[i], parts[i + 1], parts[i + 2])
            for i in range(0, len(parts), 3)
            if any(x is not None for x in parts[i : i + 3])
        ]
        cid, _ = P.only_condition(vocab, triples)
        return _relation_code(vocab, cid, target)

    if n == 0:
        return lit(UNKNOWN)
    return b.shared(("dx", "only", target), lambda: b.mapped(_dx_key(b), kind, CODE))


def _applies(b: Plan, k: int, condition: str | None) -> pl.Expr:
    """Int8: 1 the therapy was for the condition, 0 not, 2 cannot tell (indication not in the
    vocabulary; or no indication and no single diagnosis to take it from)."""
    if condition is None:
        return lit(MET)
    vocab = b.vocab
    target = vocab.condition_id(condition) or condition

    def kind(indication: str) -> int:
        return _relation_code(vocab, vocab.condition_id(indication), target)

    indication = b.s("therapies", k, "indication")
    start, end = b.s("therapies", k, "start"), b.s("therapies", k, "end")

    def build() -> pl.Expr:
        only = _only_diagnosis_is(b, target)
        first = _first_diagnosis(b)
        inferred = (
            pl.when((only == MET) & (end < first).fill_null(False))
            .then(lit(NOT_MET))  # ended before the diagnosis was made
            .when((only == MET) & (start < first).fill_null(False))
            .then(lit(UNKNOWN))  # started before it: what it treated is not recorded
            .otherwise(only)
        )
        return (
            pl.when(indication.is_null())
            .then(inferred)
            .otherwise(b.mapped(indication, kind, CODE))
        )

    return b.shared(("therapy", "applies", target, k), build)


def _first_diagnosis(b: Plan) -> pl.Expr:
    """The earliest date of the diagnoses made by the screening date; null when one of them is
    undated (:func:`predicates.first_diagnosis_date`)."""
    ks = b.ks("diagnoses")
    if not ks:
        return pl.lit(None, dtype=pl.Date)

    def build() -> pl.Expr:
        now = {k: _dx_now(b, k) for k in ks}
        dates = {k: b.s("diagnoses", k, "date") for k in ks}
        undated = _any([now[k] & dates[k].is_null() for k in ks])
        first = pl.min_horizontal([pl.when(now[k]).then(dates[k]) for k in ks])
        return pl.when(undated).then(pl.lit(None, dtype=pl.Date)).otherwise(first)

    return b.shared(("dx", "first"), build)


def _started(b: Plan, k: int) -> pl.Expr:
    """Therapy slot k holds a therapy that is not a future one (start on or before the
    screening date, or undated)."""
    future = (b.s("therapies", k, "start") > b.day).fill_null(False)
    return b.shared(("therapy", "started", k), partial(b.present("therapies", k).__and__, ~future))


def _running(b: Plan, k: int) -> pl.Expr:
    """The course was running on the screening date: recorded as ongoing (no end), or ending
    after the screening date (:meth:`predicates.Context.running`)."""
    s = partial(b.s, "therapies", k)

    def build() -> pl.Expr:
        ongoing = s("ongoing").eq(True).fill_null(False) | (
            s("outcome") == TherapyOutcome.ongoing.value
        ).fill_null(False)
        return (s("end").is_null() & ongoing) | b.later(s("end"))

    return b.shared(("therapy", "running", k), build)


def _outcome(b: Plan, k: int) -> pl.Expr:
    """The outcome as known on the screening date (ongoing for a course ending after it)."""
    s = partial(b.s, "therapies", k)
    return b.shared(
        ("therapy", "outcome", k),
        lambda: (
            pl.when(b.later(s("end")))
            .then(pl.lit(TherapyOutcome.ongoing.value))
            .otherwise(s("outcome"))
        ),
    )


def _setting_code(wanted: Sequence[Any], setting: pl.Expr, line: pl.Expr) -> pl.Expr:
    """Int8 as :func:`predicates.setting_matches`: the recorded setting, else the line."""
    wanted = list(wanted)
    on_line_1 = P.setting_matches(None, 1, wanted)
    on_later = P.setting_matches(None, 2, wanted)

    def code(v: bool | None) -> pl.Expr:
        return lit(UNKNOWN if v is None else (MET if v else NOT_MET))

    return (
        pl.when(setting.is_not_null())
        .then(_tri(setting.is_in([x.value for x in wanted])))
        .when(line == 1)
        .then(code(on_line_1))
        .when(line.is_not_null())
        .then(code(on_later))
        .otherwise(lit(UNKNOWN))
    )


@compiles("prior_therapy")
def _prior_therapy(args: P.PriorTherapyArgs, b: Plan) -> pl.Expr:
    vocab = b.vocab

    def kind(key: str) -> int:  # MET: matches; UNKNOWN: no match but unresolved terms
        known, unresolved = _known_and_unresolved(vocab, key)
        if P._filter_matches(vocab, args, known):
            return MET
        return UNKNOWN if unresolved else NOT_MET

    met, open_ = [], []
    for k in b.ks("therapies"):
        s = partial(b.s, "therapies", k)
        applies = _applies(b, k, args.for_condition)
        live = b.shared(
            ("therapy", "live", args.for_condition, k),
            partial(_started(b, k).__and__, applies != NOT_MET),
        )
        match = b.mapped(_drug_key(b, k), kind, CODE)
        opens = [match == UNKNOWN]
        ok = (match == MET) & (applies == MET)
        opens.append((match == MET) & (applies == UNKNOWN))
        if args.setting_in is not None:
            fits = _setting_code(args.setting_in, s("setting"), s("line"))
            opens.append(ok & (fits == UNKNOWN))
            ok = ok & (fits == MET)
        if args.outcome_in is not None:
            outcome = _outcome(b, k)
            opens.append(ok & outcome.is_null())
            ok = ok & outcome.is_in([x.value for x in args.outcome_in]).fill_null(False)
        met.append(live & ok)
        open_.append(live & _any(opens))
    return _combine_items(b.recorded("therapies"), met, open_, b.partial("therapies"))


@compiles("prior_therapy_except")
def _therapy_except(args: P.TherapyExceptArgs, b: Plan) -> pl.Expr:
    vocab = b.vocab
    exc_drugs: set[str] = set()
    for d in args.except_drugs:
        exc_drugs |= vocab.drug_ids(d) or set()
    exc_classes = {vocab.class_id(c) or c for c in args.except_classes}

    def kind(key: str) -> int:  # MET: a drug outside the exceptions; UNKNOWN: unresolved
        known, unresolved = _known_and_unresolved(vocab, key)
        if any(not vocab.drug_in(d, exc_drugs, exc_classes) for d in known):
            return MET
        return UNKNOWN if unresolved else NOT_MET

    excepted_settings = [s.value for s in args.except_settings]
    met, open_ = [], []
    for k in b.ks("therapies"):
        setting = b.s("therapies", k, "setting")
        applies = _applies(b, k, args.for_condition)
        live = (
            _started(b, k)
            & (applies != NOT_MET)
            & ~setting.is_in(excepted_settings).fill_null(False)
        )
        outside = b.mapped(_drug_key(b, k), kind, CODE)
        met.append(live & (outside == MET) & (applies == MET))
        open_.append(live & ((outside == UNKNOWN) | ((outside == MET) & (applies == UNKNOWN))))
    return _combine_items(b.recorded("therapies"), met, open_, b.partial("therapies"))


def _add_months(day: pl.Expr, months: pl.Expr) -> pl.Expr:
    """Vectorized :func:`predicates.add_months` (clamped to the month's last day)."""
    index = day.dt.month().cast(pl.Int32) - 1 + months
    year = day.dt.year().cast(pl.Int32) + index.floordiv(12)
    month = index.mod(12) + 1
    last = pl.date(year, month, 1).dt.month_end().dt.day().cast(pl.Int32)
    return pl.date(year, month, pl.min_horizontal(day.dt.day().cast(pl.Int32), last))


def _measure(frame: pl.DataFrame, unit: str) -> pl.Series:
    """Days, or calendar months (:func:`predicates.calendar_months`), of each row's span
    ``first``..``last`` (inclusive). Computed step by step so no sub-expression repeats."""
    if unit == "days":
        return frame.select(
            ((pl.col("last") - pl.col("first")).dt.total_days() + 1).cast(pl.Float64)
        ).to_series()
    f = (
        frame.select("first", "last")
        .with_columns(end=pl.col("last") + pl.duration(days=1))
        .with_columns(
            whole=(
                pl.col("end").dt.year().cast(pl.Int32) - pl.col("first").dt.year().cast(pl.Int32)
            )
            * 12
            + (pl.col("end").dt.month().cast(pl.Int32) - pl.col("first").dt.month().cast(pl.Int32))
        )
        .with_columns(anchor=_add_months(pl.col("first"), pl.col("whole")))
    )
    f = (
        f.with_columns(over=pl.col("anchor") > pl.col("end"))
        .with_columns(
            whole=pl.when(pl.col("over")).then(pl.col("whole") - 1).otherwise(pl.col("whole"))
        )
        .with_columns(anchor=_add_months(pl.col("first"), pl.col("whole")))
    )
    return f.select(
        pl.col("whole").cast(pl.Float64)
        + (pl.col("end") - pl.col("anchor")).dt.total_days().cast(pl.Float64)
        / pl.col("anchor").dt.month_end().dt.day().cast(pl.Float64)
    ).to_series()


@compiles("cumulative_exposure")
def _exposure(args: P.ExposureArgs, b: Plan) -> pl.Expr:
    amount, problem = _exposure_amount(args.drug, args.unit, b)
    bounds = args.bounds()
    upper_broken = _any(
        [~_bounds(P.Bounds(**{_WORD[sym]: v}), amount) for sym, v in bounds if sym in ("≤", "<")]
    )
    lower_only = all(sym in ("≥", ">") for sym, _ in bounds)
    lower_only_met = _bounds(args, amount) if lower_only else pl.lit(False)
    undecided = problem & ~upper_broken & ~lower_only_met
    return (
        pl.when(~b.recorded("therapies"))
        .then(lit(UNKNOWN))
        .when(undecided)
        .then(lit(UNKNOWN))
        .otherwise(_tri(_bounds(args, amount)))
    )


_WORD = {"≥": "at_least", "≤": "at_most", ">": "more_than", "<": "less_than"}


def _exposure_amount(drug: str, unit: str, b: Plan) -> tuple[pl.Expr, pl.Expr]:
    """(amount, "something unknown" flag) of exposure to a drug, computed once per batch.

    Mirrors :func:`predicates.eval_exposure`: courses with the drug, started by the screening
    date; ongoing ones run to it; overlapping or touching courses count once (calendar
    months). Rows with one course need no merging; only rows with several are merged.
    """
    memo_key = ("exposure", drug, unit)
    if memo_key in b._exposure:
        amount_col, problem_col = b._exposure[memo_key]
        return pl.col(amount_col), pl.col(problem_col)
    vocab = b.vocab
    wanted = vocab.drug_ids(drug) or frozenset()

    def kind(key: str) -> int:
        known, unresolved = _known_and_unresolved(vocab, key)
        if known & wanted:
            return MET
        return UNKNOWN if unresolved else NOT_MET

    problems: list[pl.Expr] = []
    spans: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = []
    cycles_total: list[pl.Expr] = []
    for k in b.ks("therapies"):
        s = partial(b.s, "therapies", k)
        has = b.mapped(_drug_key(b, k), kind, CODE)
        present = b.present("therapies", k)
        problems.append(present & (has == UNKNOWN))
        counted = present & (has == MET) & _started(b, k)
        if unit == "cycles":
            after = b.later(s("end"))
            problems.append(counted & (s("cycles").is_null() | after))
            cycles_total.append(pl.when(counted & ~after).then(s("cycles")).otherwise(0))
            continue
        ongoing = s("ongoing").eq(True).fill_null(False) | (
            s("outcome") == TherapyOutcome.ongoing.value
        ).fill_null(False)
        end = pl.when(s("end").is_null() & ongoing).then(b.day).otherwise(s("end"))
        ok = (counted & s("start").is_not_null() & end.is_not_null()).fill_null(False)
        problems.append(counted & ~ok)
        spans.append((ok, s("start"), pl.min_horizontal(end, b.day)))
    problems.append(b.partial("therapies"))  # the recorded courses are a lower bound
    name = f"__exp{len(b._exposure)}"
    problem = _any(problems).alias(name + "p")
    if unit == "cycles":
        amount = pl.sum_horizontal(cycles_total).cast(pl.Float64) if cycles_total else pl.lit(0.0)
        b.step(lambda df: df.with_columns(amount.alias(name), problem))
    else:
        b.step(lambda df: df.with_columns(_span_totals(df, spans, unit).alias(name), problem))
    b._exposure[memo_key] = (name, name + "p")
    return pl.col(name), pl.col(name + "p")


def _span_totals(
    df: pl.DataFrame, spans: list[tuple[pl.Expr, pl.Expr, pl.Expr]], unit: str
) -> pl.Series:
    """Days or calendar months covered by the union of each row's spans (one batch)."""
    n = df.height
    if not spans:
        return pl.Series([0.0] * n, dtype=pl.Float64)
    cols = []
    for i, (ok, first, last) in enumerate(spans):
        cols += [ok.alias(f"ok{i}"), first.alias(f"first{i}"), last.alias(f"last{i}")]
    wide = df.select(*cols).with_columns(
        pl.sum_horizontal([pl.col(f"ok{i}").cast(pl.Int32) for i in range(len(spans))]).alias("n")
    )

    one = wide.select(
        pl.coalesce(
            [pl.when(pl.col(f"ok{i}")).then(pl.col(f"first{i}")) for i in range(len(spans))]
        ).alias("first"),
        pl.coalesce(
            [pl.when(pl.col(f"ok{i}")).then(pl.col(f"last{i}")) for i in range(len(spans))]
        ).alias("last"),
    )
    single = wide.select(
        pl.when(pl.col("n") == 0)
        .then(pl.lit(0.0))
        .when(pl.col("n") == 1)
        .then(_measure(one, unit))
        .alias("v")
    )["v"]
    several = wide.with_row_index("row").filter(pl.col("n") > 1)
    if several.height == 0:
        return single
    long = (
        pl.concat(
            [
                several.select(
                    pl.col("row"),
                    pl.col(f"first{i}").alias("first"),
                    pl.col(f"last{i}").alias("last"),
                    pl.col(f"ok{i}").alias("ok"),
                )
                for i in range(len(spans))
            ]
        )
        .filter(pl.col("ok"))
        .sort("row", "first", "last")
    )
    reach = pl.col("last").cum_max().shift(1).over("row")
    merged = (
        long.with_columns(new=reach.is_null() | (pl.col("first") > reach + pl.duration(days=1)))
        .with_columns(group=pl.col("new").cast(pl.Int32).cum_sum().over("row"))
        .group_by("row", "group", maintain_order=True)
        .agg(pl.col("first").min(), pl.col("last").max())
    )
    merged = (
        merged.with_columns(v=_measure(merged, unit))
        .group_by("row", maintain_order=True)
        .agg(pl.col("v").sum())
    )
    values = single.to_list()
    for row, v in merged.iter_rows():
        values[row] = v
    return pl.Series(values, dtype=pl.Float64)


def _anti_disease(b: Plan, k: int) -> pl.Expr:
    """Therapy slot k holds a course that is not supportive care or prophylaxis
    (:func:`predicates.supportive`)."""
    settings = [x.value for x in P.SUPPORTIVE_SETTINGS]
    setting = b.s("therapies", k, "setting")
    return b.shared(
        ("therapy", "anti-disease", k),
        lambda: b.present("therapies", k) & ~setting.is_in(settings).fill_null(False),
    )


def _status_usable(b: Plan) -> pl.Expr:
    """A disease status with a response, not dated after the screening date."""
    date = b.c("disease_response_date", "date")
    return b.c("disease_response").is_not_null() & ~b.later(date)


def _chosen(b: Plan, variant: str, condition: str | None = None) -> list[pl.Expr]:
    """Per therapy slot, whether it is the course an assessment followed, as
    :func:`predicates.course_before`: ``variant`` "status" uses the disease status date (the
    screening date when undated), "now" the screening date. Several candidates with one
    undated: none is chosen (the order is unknown)."""
    ks = b.ks("therapies")
    if not ks:
        return []

    def before() -> pl.Expr:
        if variant == "now":
            return b.day
        date = b.c("disease_response_date", "date")
        return pl.when(date.is_null()).then(b.day).otherwise(date)

    starts = {k: b.s("therapies", k, "start") for k in ks}
    applies = {k: _applies(b, k, condition) for k in ks}
    key = (variant, condition)

    def candidate(k: int) -> pl.Expr:
        return (
            _anti_disease(b, k)
            & (applies[k] != NOT_MET)
            & (starts[k].is_null() | (starts[k] <= before()))
        )

    cand = {k: b.shared(("course", key, "cand", k), partial(candidate, k)) for k in ks}

    def count() -> pl.Expr:
        return pl.sum_horizontal([cand[k].cast(pl.Int32) for k in ks])

    n = b.shared(("course", key, "n"), count)
    best = b.shared(
        ("course", key, "best"),
        lambda: pl.max_horizontal([pl.when(cand[k]).then(starts[k]) for k in ks]),
    )
    ends = {k: b.s("therapies", k, "end") for k in ks}

    def undated_open() -> pl.Expr:  # an undated candidate not known to end before the latest
        return _any(
            [cand[k] & starts[k].is_null() & ~(ends[k] < best).fill_null(False) for k in ks]
        )

    undated = b.shared(("course", key, "undated"), undated_open)
    usable_list = b.recorded("therapies") & ~b.partial("therapies")
    out = []
    for i, k in enumerate(ks):
        tie_later = [cand[j] & (starts[j] == best) for j in ks[i + 1 :]]
        latest = cand[k] & (starts[k] == best).fill_null(False) & ~_any(tie_later)
        chosen = usable_list & (((n == 1) & cand[k]) | ((n > 1) & ~undated & latest))
        chosen = chosen & (applies[k] == MET)  # one whose indication is unknown: none
        out.append(b.shared(("course", key, "chosen", k), partial(_same, chosen)))
    return out


def _same(expr: pl.Expr) -> pl.Expr:
    return expr


def _chosen_value(b: Plan, variant: str, what: str, condition: str | None = None) -> pl.Expr:
    """A column of the chosen course (``what``: a therapy column, "outcome" as known on the
    screening date, or "responded" as :func:`predicates.responded`); null when no course is
    chosen."""
    chosen = _chosen(b, variant, condition)
    if not chosen:
        return pl.lit(None, dtype={"line": pl.Int64, "end": pl.Date}.get(what, pl.Utf8))
    ks = b.ks("therapies")

    def value(k: int) -> pl.Expr:
        return _outcome(b, k) if what == "outcome" else b.s("therapies", k, what)

    return b.shared(
        ("course", (variant, condition), "value", what),
        lambda: pl.coalesce([pl.when(c).then(value(k)) for c, k in zip(chosen, ks, strict=True)]),
    )


def _response_line(b: Plan, condition: str | None = None) -> pl.Expr:
    """The line the response followed: as recorded, else :func:`predicates.line_before`."""
    ks = b.ks("therapies")
    date = b.c("disease_response_date", "date")
    before = pl.when(date.is_null()).then(b.day).otherwise(date)
    definite, ambiguous = {}, {}
    for k in ks:
        start, end = b.s("therapies", k, "start"), b.s("therapies", k, "end")
        applies = _applies(b, k, condition)
        present = _anti_disease(b, k) & (applies != NOT_MET)
        ended_before = (end <= date).fill_null(False)
        undated_after = start.is_null() & date.is_not_null() & ~ended_before
        by_date = ~undated_after & (
            start.is_null() | (start.is_not_null() & (start <= before))
        ).fill_null(False)
        definite[k] = present & by_date & (applies == MET)
        ambiguous[k] = present & (undated_after | (by_date & (applies == UNKNOWN)))
    lines = {k: b.s("therapies", k, "line") for k in ks}
    all_lined = _all([~(definite[k] | ambiguous[k]) | lines[k].is_not_null() for k in ks])
    if ks:
        derived = pl.max_horizontal([pl.when(definite[k]).then(lines[k]) for k in ks])
        highest_undated = pl.max_horizontal([pl.when(ambiguous[k]).then(lines[k]) for k in ks])
    else:
        derived = highest_undated = pl.lit(None, dtype=pl.Int64)
    recorded = b.c("disease_response_after_line", "int")
    usable = b.recorded("therapies") & ~b.partial("therapies")
    order_known = highest_undated.is_null() | (highest_undated <= derived)
    return (
        pl.when(recorded.is_not_null())
        .then(recorded)
        .when(usable & _any(list(definite.values())) & all_lined & order_known.fill_null(False))
        .then(derived)
    )


def _rank_code(args: P.ResponseArgs, ranks: Sequence[int]) -> int:
    """MET if every rank qualifies, NOT_MET if none does, else UNKNOWN."""
    oks = [P._rank_ok(args, r) for r in ranks]
    return MET if all(oks) else (NOT_MET if not any(oks) else UNKNOWN)


@compiles("response")
def _response(args: P.ResponseArgs, b: Plan) -> pl.Expr:
    response, date = b.c("disease_response"), b.c("disease_response_date", "date")
    rank = b.mapped(
        response, lambda r: P.RESPONSE_ORDER.get(P.response_category(r) or "", 0), pl.Int32
    )
    ok = pl.lit(True)
    if args.at_least:
        ok = ok & (rank >= P.RESPONSE_ORDER[args.at_least])
    if args.at_most:
        ok = ok & (rank <= P.RESPONSE_ORDER[args.at_most])
    mismatch: list[pl.Expr] = []
    missing: list[pl.Expr] = []
    cond = args.for_condition
    if args.after_line_in:
        line = b.shared(("response", "line", cond), partial(_response_line, b, cond))
        missing.append(line.is_null())
        mismatch.append(line.is_not_null() & ~line.is_in(args.after_line_in).fill_null(False))
    if args.after_setting_in:
        fits = _setting_code(
            args.after_setting_in,
            _chosen_value(b, "status", "setting", cond),
            _chosen_value(b, "status", "line", cond),
        )
        missing.append(fits == UNKNOWN)
        mismatch.append(fits == NOT_MET)
    if args.assessed_by_in:
        methods = args.assessed_by_in

        def by(text: str) -> bool:
            return P.assessed_by_matches(text, methods)

        assessed = b.c("disease_response_assessed_by")
        missing.append(assessed.is_null())
        mismatch.append(assessed.is_not_null() & ~b.mapped(assessed, by, pl.Boolean))
    from_status = (
        pl.when(rank == 0)
        .then(lit(UNKNOWN))
        .when(_stale(date, args.max_age_days, b))
        .then(lit(UNKNOWN))
        .when(~ok)
        .then(lit(NOT_MET))
        .when(_any(mismatch))
        .then(lit(NOT_MET))
        .when(_any(missing))
        .then(lit(UNKNOWN))
        .otherwise(lit(MET))
    )
    return (
        pl.when(_status_usable(b) & ~_superseded(b, cond))
        .then(from_status)
        .otherwise(
            b.shared(("response", "course", args.model_dump_json()), partial(_from_course, args, b))
        )
    )


def _superseded(b: Plan, condition: str | None) -> pl.Expr:
    """A course (for the condition, or of unknown indication) started after the dated disease
    status and by the screening date (:func:`predicates.superseding_course`)."""
    date = b.c("disease_response_date", "date")
    ks = b.ks("therapies")
    if not ks:
        return pl.lit(False)

    def build() -> pl.Expr:
        later = []
        for k in ks:
            start = b.s("therapies", k, "start")
            later.append(
                _anti_disease(b, k)
                & (_applies(b, k, condition) != NOT_MET)
                & (start > date).fill_null(False)
                & (start <= b.day).fill_null(False)
            )
        return _any(later)

    return b.shared(("response", "superseded", condition), build)


def _from_course(args: P.ResponseArgs, b: Plan) -> pl.Expr:
    """No usable disease status: what the latest course's outcome settles
    (:func:`predicates._response_from_course`)."""
    cond = args.for_condition
    outcome = _chosen_value(b, "now", "outcome", cond)
    codes = {o.value: _rank_code(args, ranks) for o, ranks in P._OUTCOME_RANKS.items()}
    code = pl.lit(None, dtype=CODE)
    for value, c in codes.items():
        code = pl.when(outcome == value).then(lit(c)).otherwise(code)
    mismatch: list[pl.Expr] = []
    missing: list[pl.Expr] = [code == UNKNOWN]
    line = _chosen_value(b, "now", "line", cond)
    end = _chosen_value(b, "now", "end", cond)
    missing.append(_stale(end, args.max_age_days, b))
    if args.after_line_in:
        missing.append(line.is_null())
        mismatch.append(line.is_not_null() & ~line.is_in(args.after_line_in).fill_null(False))
    if args.after_setting_in:
        fits = _setting_code(
            args.after_setting_in, _chosen_value(b, "now", "setting", cond), line
        )
        missing.append(fits == UNKNOWN)
        mismatch.append(fits == NOT_MET)
    if args.assessed_by_in:
        missing.append(pl.lit(True))
    return (
        pl.when(code.is_null())
        .then(lit(UNKNOWN))
        .when(code == NOT_MET)
        .then(lit(NOT_MET))
        .when(_any(mismatch))
        .then(lit(NOT_MET))
        .when(_any(missing))
        .then(lit(UNKNOWN))
        .otherwise(lit(MET))
    )


@compiles("disease_state")
def _disease_state(args: P.DiseaseStateArgs, b: Plan) -> pl.Expr:
    state, date = b.c("disease_state"), b.c("disease_response_date", "date")
    listed = state.is_in([x.value for x in args.one_of]).fill_null(False)
    if args.for_condition:
        target = b.vocab.condition_id(args.for_condition) or args.for_condition
        only = _only_diagnosis_is(b, target)
        other_disease = only == NOT_MET
        found = pl.when(only == MET).then(lit(MET)).otherwise(lit(UNKNOWN))
    else:
        other_disease = pl.lit(False)
        found = lit(MET)
    return (
        pl.when(other_disease)
        .then(lit(NOT_MET))
        .when(b.later(date))
        .then(lit(UNKNOWN))
        .when(state.is_null())
        .then(lit(UNKNOWN))
        .when(listed)
        .then(found)
        .otherwise(lit(NOT_MET))
    )


@compiles("transfusion")
def _transfusion(args: P.TransfusionArgs, b: Plan) -> pl.Expr:
    vocab = b.vocab
    wanted = vocab.drug_ids(args.drug) or frozenset()

    def kind(key: str) -> int:
        known, unresolved = _known_and_unresolved(vocab, key)
        if known & wanted:
            return MET
        return UNKNOWN if unresolved else NOT_MET

    def live_period(p: int) -> pl.Expr:  # a red-cell period in slot p, started by the date
        is_red = b.mapped(
            b.s("transfusions", p, "product").fill_null("RBC"),
            lambda v: normalise(v) in P._RED,
            pl.Boolean,
        ).fill_null(False)
        return b.present("transfusions", p) & is_red & ~b.later(b.s("transfusions", p, "start"))

    def hit(k: int, p: int) -> pl.Expr:  # period p covers the moment asked of therapy k
        start, end = b.s("therapies", k, "start"), b.s("therapies", k, "end")
        live = b.shared(("transfusion", "red", p), lambda: live_period(p))
        p_start, p_end = b.s("transfusions", p, "start"), b.s("transfusions", p, "end")
        if args.when == "during":
            stopped = end.is_not_null() & ~b.later(end)
            until = pl.when(stopped).then(end).otherwise(b.day)
            found = live & (p_start <= until) & (p_end.is_null() | (p_end >= start))
        else:
            day = start - pl.duration(days=1) if args.when == "before_start" else end
            found = live & (p_start <= day) & (p_end.is_null() | (p_end >= day))
        return found.fill_null(False)

    def own_record(k: int) -> pl.Expr:  # Int8 or null, as predicates._course_ti
        s = partial(b.s, "therapies", k)
        responded = b.mapped(s("best_response"), _responded, pl.Boolean).fill_null(False)
        no_response = _outcome(b, k).is_in([o.value for o in NO_RESPONSE_OUTCOMES]) & ~responded
        none = pl.lit(None, dtype=CODE)
        if args.status != "independent" or args.when == "before_start":
            return none
        flag = s("ti_at_end") if args.when == "at_end" else s("ti_reached")
        # reached on a course ending after the screening date: perhaps only after it
        flag = pl.when(flag.eq(True) & b.later(s("end"))).then(pl.lit(None)).otherwise(flag)
        not_reached = s("ti_reached").eq(False).fill_null(False)
        if args.when != "at_end":
            not_reached = pl.lit(False)
        return (
            pl.when(flag.is_not_null())
            .then(_tri(flag.fill_null(False)))
            .when(not_reached)
            .then(lit(NOT_MET))
            .when(no_response.fill_null(False))
            .then(lit(NOT_MET))
            .otherwise(none)
        )

    has_key = ("transfusion", "has", args.drug)
    periods_recorded = b.recorded("transfusions")
    periods_complete = ~b.partial("transfusions")
    course_met, course_open, any_course, any_unresolved = [], [], [], []
    for k in b.ks("therapies"):
        s = partial(b.s, "therapies", k)
        has = b.shared((*has_key, k), partial(b.mapped, _drug_key(b, k), kind, CODE))
        course = b.shared((*has_key, "course", k), partial(_started(b, k).__and__, has == MET))
        any_course.append(course)
        any_unresolved.append(_started(b, k) & (has == UNKNOWN))
        start, end = s("start"), s("end")
        if args.when == "at_end":
            skip = _running(b, k)
            dateless = end.is_null()
        else:
            skip = pl.lit(False)
            dateless = start.is_null()
        hits, matches = [], []
        for p in b.ks("transfusions"):
            found = b.shared(("transfusion", "hit", args.when, k, p), partial(hit, k, p))
            hits.append(found)
            status = b.s("transfusions", p, "status")
            matches.append(found & (status == args.status).fill_null(False))
        own = b.shared(("transfusion", "own", args.status, args.when, k), partial(own_record, k))
        considered = course & ~skip
        by_periods = periods_recorded & ~dateless
        period_met = by_periods & _any(matches)
        other_status = by_periods & _any(hits)  # recorded periods decide before the course
        if args.when == "during":
            other_status = other_status & periods_complete
        met_here = period_met | (~other_status & (own == MET).fill_null(False))
        settled = other_status | (own == NOT_MET).fill_null(False)
        course_met.append(considered & met_here)
        course_open.append(considered & ~met_here & ~settled)
    partial_tx = b.partial("therapies")
    return (
        pl.when(~b.recorded("therapies"))
        .then(lit(UNKNOWN))
        .when(~_any(any_course))
        .then(
            pl.when(_any(any_unresolved) | partial_tx)
            .then(lit(UNKNOWN))
            .otherwise(lit(NOT_MET))
        )
        .when(_any(course_met))
        .then(lit(MET))
        .when(_any(course_open) | partial_tx)
        .then(lit(UNKNOWN))
        .otherwise(lit(NOT_MET))
    )


def _responded(best: str) -> bool:
    """:func:`predicates.responded` of a course's best response."""
    cat = P.response_category(best)
    return cat is None or P.RESPONSE_ORDER[cat] > P.RESPONSE_ORDER["SD"]


# ------------------------------------------------------------------------------------------
# Criteria and trials


def attested(b: Plan, trial_id: str, criterion_id: str, verdict: pl.Expr) -> pl.Expr:
    """Apply the latest matching attestation to an open verdict (as the engine does)."""
    slots = []
    for k in b.ks("attestations"):
        s = partial(b.s, "attestations", k)
        match = (
            (s("trial") == trial_id) & (s("criterion") == criterion_id) & (s("on") <= b.day)
        ).fill_null(False)
        slots.append((match, s("on"), s("holds")))
    best_on = pl.max_horizontal([pl.when(m).then(on) for m, on, _ in slots])
    holds = pl.coalesce([pl.when(m & (on == best_on)).then(h) for m, on, h in slots])
    open_ = (verdict == UNKNOWN) | (verdict == REVIEW)
    return (
        pl.when(open_ & holds.is_not_null())
        .then(pl.when(holds).then(lit(MET)).otherwise(lit(NOT_MET)))
        .otherwise(verdict)
    )
