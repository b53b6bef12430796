"""Therapy history shared by several predicates, in both engines: response categories, the
course or line before a given one, supportive settings, what a course treated, and their
columnar counterparts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Setting,
    Therapy,
    TherapyOutcome,
)
from trialmatch.model.vocab import Vocabulary, normalise
from trialmatch.predicates.base import cx, listed, pl
from trialmatch.predicates.context import (
    Context,
    only_condition,
    setting_matches,
    therapy_label,
    therapy_terms,
)

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


RESPONSE_ORDER: dict[str, int] = {"sCR": 7, "CR": 6, "VGPR": 5, "PR": 4, "MR": 3, "SD": 2, "PD": 1}


_RESPONSE_SYNONYMS = {
    "scr": "sCR",
    "stringent complete response": "sCR",
    "cr": "CR",
    "complete response": "CR",
    "complete remission": "CR",
    "vgpr": "VGPR",
    "very good partial response": "VGPR",
    "pr": "PR",
    "partial response": "PR",
    "partial remission": "PR",
    "mr": "MR",
    "minimal response": "MR",
    "minor response": "MR",
    "sd": "SD",
    "stable disease": "SD",
    "stable": "SD",
    "pd": "PD",
    "progressive disease": "PD",
    "progression": "PD",
}


def response_category(term: str) -> str | None:
    """The canonical response category of a term, or None.

    >>> response_category("complete remission"), response_category("VGPR"), response_category("?")
    ('CR', 'VGPR', None)
    """
    return _RESPONSE_SYNONYMS.get(normalise(term))


def course_before(
    ctx: Context, assessed: dt.date | None, condition: str | None = None
) -> tuple[Therapy | None, str]:
    """The latest course started before an assessment (dated ``assessed``, else the screening
    date), or None and why it cannot be told; supportive care and prophylaxis are not courses a
    response follows. With ``condition``, only courses for it count
    (a course whose indication cannot be told may be the one). A course without a start date
    could fall anywhere, unless it ended before a later course started: with several courses
    the order is then unknown, never guessed (with an undated assessment, an undated course
    counts as before it)."""
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return None, "therapy history not recorded"
    if not complete:
        return None, "the therapy history is known only in part"
    before = assessed or ctx.as_of
    relevance = {id(t): ctx.treats(t, condition) for t in therapies}
    candidates = [
        t
        for t in therapies
        if relevance[id(t)][0] is not False
        and not supportive(t)
        and ((t.start is None and ctx.started(t)) or (t.start is not None and t.start <= before))
    ]
    if not candidates:
        return None, "no therapy recorded before the assessment"
    if len(candidates) == 1:
        chosen = candidates[0]
    else:
        dated = [t for t in candidates if t.start is not None]
        latest = max((t.start for t in dated if t.start is not None), default=None)
        for t in candidates:
            ended_earlier = t.end is not None and latest is not None and t.end < latest
            if t.start is None and not ended_earlier:
                return None, f"{therapy_label(t)} has no start date, so the order is not known"
        chosen = sorted(dated, key=lambda t: t.start or before)[-1]
    applies, why = relevance[id(chosen)]
    if applies is None:
        return None, why
    return chosen, ""


def line_before(ctx: Context, assessed: dt.date | None, condition: str | None = None) -> int | None:
    """The line of therapy an assessment followed, from the courses' lines (for ``condition``
    only, when given): the highest line started before it, when every course has a line. An
    undated course, or one whose indication cannot be told, with a higher line may have been
    the one: then None."""
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None or not complete:
        return None
    before = assessed or ctx.as_of

    def ended_before(t: Therapy) -> bool:
        return t.end is not None and assessed is not None and t.end <= assessed

    definite: list[Therapy] = []
    ambiguous: list[Therapy] = []
    for t in therapies:
        applies = ctx.treats(t, condition)[0]
        if applies is False or supportive(t):
            continue
        if t.start is None and assessed is not None and not ended_before(t):
            ambiguous.append(t)
        elif (t.start is None and ctx.started(t)) or (t.start is not None and t.start <= before):
            (definite if applies else ambiguous).append(t)
    if not definite or any(t.line is None for t in [*definite, *ambiguous]):
        return None
    line = max(t.line or 0 for t in definite)
    if any((t.line or 0) > line for t in ambiguous):
        return None
    return line


def superseding_course(
    ctx: Context, status_date: dt.date | None, condition: str | None
) -> Therapy | None:
    """A course (for ``condition``, or of unknown indication) started after a dated disease
    status and by the screening date: the status no longer describes the current response."""
    if status_date is None:
        return None
    therapies, _ = listed(ctx.patient.therapies)
    t: Therapy
    for t in therapies or []:
        if (
            t.start is not None
            and status_date < t.start <= ctx.as_of
            and not supportive(t)
            and ctx.treats(t, condition)[0] is not False
        ):
            return t
    return None


SUPPORTIVE_SETTINGS = (Setting.supportive, Setting.prophylaxis)


def supportive(t: Therapy) -> bool:
    """Supportive care or prophylaxis: not a line of therapy a response follows."""
    return t.setting in SUPPORTIVE_SETTINGS


def responded(t: Therapy) -> bool:
    """Whether a course records a response on it (a best response better than SD, or one that
    is not a standard category)."""
    if t.best_response is None:
        return False
    cat = response_category(t.best_response)
    return cat is None or RESPONSE_ORDER[cat] > RESPONSE_ORDER["SD"]


def dx_now_expr(b: Builder, k: int) -> pl.Expr:
    """Diagnosis slot k holds a diagnosis made by the screening date (or undated)."""
    return b.shared(
        ("dx", "now", k),
        lambda: b.present("diagnoses", k) & ~b.later(b.s("diagnoses", k, "date")),
    )


def drug_key_expr(b: Builder, k: int) -> pl.Expr:
    return cx.key(b.s("therapies", k, "drugs"), b.s("therapies", k, "regimen"))


def known_and_unresolved_expr(vocab: Vocabulary, key: str) -> tuple[frozenset[str], bool]:
    drugs, regimen = cx.split(key, 2)
    known, unresolved = therapy_terms(vocab, cx.items(drugs), regimen)
    return known, bool(unresolved)


def dx_key_expr(b: Builder) -> pl.Expr:
    """A key over the (condition, code, subtype) of every diagnosis made by the screening
    date (other slots as nulls): what decides the patient's only diagnosis."""
    parts: list[pl.Expr] = []
    for k in b.ks("diagnoses"):
        # Keys are computed before shared columns: use the slot flag, not dx_now_expr's column.
        now = b.present("diagnoses", k) & ~b.later(b.s("diagnoses", k, "date"))
        for suffix in ("condition", "code", "subtype"):
            parts.append(pl.when(now).then(b.s("diagnoses", k, suffix)))
    return cx.key(*parts) if parts else pl.lit("", dtype=pl.Utf8)


def relation_code_expr(vocab: Vocabulary, cid: str | None, target: str) -> int:
    """MET: ``cid`` is the target or a subtype; NOT_MET: another condition; UNKNOWN: not
    resolved, or broader than the target (a lymphoma may be a T-cell lymphoma)."""
    if cid is None:
        return UNKNOWN
    if vocab.condition_is_a(cid, target):
        return MET
    return UNKNOWN if vocab.condition_is_a(target, cid) else NOT_MET


def only_diagnosis_is_expr(b: Builder, target: str) -> pl.Expr:
    """Int8 per row: the patient's only diagnosis is ``target`` or a subtype (MET), is another
    condition (NOT_MET), or there is no single diagnosis (UNKNOWN), as
    :func:`only_diagnosis`."""
    vocab = b.vocab
    n = len(b.ks("diagnoses"))

    def kind(key: str) -> int:
        parts = cx.split(key, 3 * n)
        triples = [
            (parts[i], parts[i + 1], parts[i + 2])
            for i in range(0, len(parts), 3)
            if any(x is not None for x in parts[i : i + 3])
        ]
        cid, _ = only_condition(vocab, triples)
        return relation_code_expr(vocab, cid, target)

    if n == 0:
        return cx.lit(UNKNOWN)
    return b.shared(("dx", "only", target), lambda: b.mapped(dx_key_expr(b), kind, cx.CODE))


def applies_expr(b: Builder, k: int, condition: str | None) -> pl.Expr:
    """Int8: 1 the therapy was for the condition, 0 not, 2 cannot tell (indication not in the
    vocabulary; or no indication and no single diagnosis to take it from)."""
    if condition is None:
        return cx.lit(MET)
    vocab = b.vocab
    target = vocab.condition_id(condition) or condition

    def kind(indication: str) -> int:
        return relation_code_expr(vocab, vocab.condition_id(indication), target)

    indication = b.s("therapies", k, "indication")
    start, end = b.s("therapies", k, "start"), b.s("therapies", k, "end")

    def build() -> pl.Expr:
        only = only_diagnosis_is_expr(b, target)
        first = first_diagnosis_expr(b)
        inferred = (
            pl.when((only == MET) & (end < first).fill_null(False))
            .then(cx.lit(NOT_MET))  # ended before the diagnosis was made
            .when((only == MET) & (start < first).fill_null(False))
            .then(cx.lit(UNKNOWN))  # started before it: what it treated is not recorded
            .otherwise(only)
        )
        return (
            pl.when(indication.is_null())
            .then(inferred)
            .otherwise(b.mapped(indication, kind, cx.CODE))
        )

    return b.shared(("therapy", "applies", target, k), build)


def first_diagnosis_expr(b: Builder) -> pl.Expr:
    """The earliest date of the diagnoses made by the screening date; null when one of them is
    undated (:func:`first_diagnosis_date`)."""
    ks = b.ks("diagnoses")
    if not ks:
        return pl.lit(None, dtype=pl.Date)

    def build() -> pl.Expr:
        now = {k: dx_now_expr(b, k) for k in ks}
        dates = {k: b.s("diagnoses", k, "date") for k in ks}
        undated = cx.any_([now[k] & dates[k].is_null() for k in ks])
        first = pl.min_horizontal([pl.when(now[k]).then(dates[k]) for k in ks])
        return pl.when(undated).then(pl.lit(None, dtype=pl.Date)).otherwise(first)

    return b.shared(("dx", "first"), build)


def started_expr(b: Builder, k: int) -> pl.Expr:
    """Therapy slot k holds a therapy that is not a future one (start on or before the
    screening date, or undated)."""
    future = (b.s("therapies", k, "start") > b.day).fill_null(False)
    return b.shared(("therapy", "started", k), partial(b.present("therapies", k).__and__, ~future))


def running_expr(b: Builder, k: int) -> pl.Expr:
    """The course was running on the screening date: recorded as ongoing (no end), or ending
    after the screening date (:meth:`predicates.Context.running`)."""
    s = partial(b.s, "therapies", k)

    def build() -> pl.Expr:
        ongoing = s("ongoing").eq(True).fill_null(False) | (
            s("outcome") == TherapyOutcome.ongoing.value
        ).fill_null(False)
        return (s("end").is_null() & ongoing) | b.later(s("end"))

    return b.shared(("therapy", "running", k), build)


def outcome_expr(b: Builder, k: int) -> pl.Expr:
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


def setting_code_expr(wanted: Sequence[Any], setting: pl.Expr, line: pl.Expr) -> pl.Expr:
    """Int8 as :func:`setting_matches`: the recorded setting, else the line."""
    wanted = list(wanted)
    on_line_1 = setting_matches(None, 1, wanted)
    on_later = setting_matches(None, 2, wanted)

    def code(v: bool | None) -> pl.Expr:
        return cx.lit(UNKNOWN if v is None else (MET if v else NOT_MET))

    return (
        pl.when(setting.is_not_null())
        .then(cx.tri(setting.is_in([x.value for x in wanted])))
        .when(line == 1)
        .then(code(on_line_1))
        .when(line.is_not_null())
        .then(code(on_later))
        .otherwise(cx.lit(UNKNOWN))
    )


def anti_disease_expr(b: Builder, k: int) -> pl.Expr:
    """Therapy slot k holds a course that is not supportive care or prophylaxis
    (:func:`supportive`)."""
    settings = [x.value for x in SUPPORTIVE_SETTINGS]
    setting = b.s("therapies", k, "setting")
    return b.shared(
        ("therapy", "anti-disease", k),
        lambda: b.present("therapies", k) & ~setting.is_in(settings).fill_null(False),
    )


def status_usable_expr(b: Builder) -> pl.Expr:
    """A disease status with a response, not dated after the screening date."""
    date = b.c("disease_response_date", "date")
    return b.c("disease_response").is_not_null() & ~b.later(date)


def chosen_expr(b: Builder, variant: str, condition: str | None = None) -> list[pl.Expr]:
    """Per therapy slot, whether it is the course an assessment followed, as
    :func:`course_before`: ``variant`` "status" uses the disease status date (the
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
    applies = {k: applies_expr(b, k, condition) for k in ks}
    key = (variant, condition)

    def candidate(k: int) -> pl.Expr:
        return (
            anti_disease_expr(b, k)
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
        return cx.any_(
            [cand[k] & starts[k].is_null() & ~(ends[k] < best).fill_null(False) for k in ks]
        )

    undated = b.shared(("course", key, "undated"), undated_open)
    usable_list = b.recorded("therapies") & ~b.partial("therapies")
    out = []
    for i, k in enumerate(ks):
        tie_later = [cand[j] & (starts[j] == best) for j in ks[i + 1 :]]
        latest = cand[k] & (starts[k] == best).fill_null(False) & ~cx.any_(tie_later)
        chosen = usable_list & (((n == 1) & cand[k]) | ((n > 1) & ~undated & latest))
        chosen = chosen & (applies[k] == MET)  # one whose indication is unknown: none
        out.append(b.shared(("course", key, "chosen", k), partial(same_expr, chosen)))
    return out


def same_expr(expr: pl.Expr) -> pl.Expr:
    return expr


def chosen_value_expr(b: Builder, variant: str, what: str, condition: str | None = None) -> pl.Expr:
    """A column of the chosen course (``what``: a therapy column, "outcome" as known on the
    screening date, or "responded" as :func:`responded`); null when no course is
    chosen."""
    chosen = chosen_expr(b, variant, condition)
    if not chosen:
        return pl.lit(None, dtype={"line": pl.Int64, "end": pl.Date}.get(what, pl.Utf8))
    ks = b.ks("therapies")

    def value(k: int) -> pl.Expr:
        return outcome_expr(b, k) if what == "outcome" else b.s("therapies", k, what)

    return b.shared(
        ("course", (variant, condition), "value", what),
        lambda: pl.coalesce([pl.when(c).then(value(k)) for c, k in zip(chosen, ks, strict=True)]),
    )


def response_line_expr(b: Builder, condition: str | None = None) -> pl.Expr:
    """The line the response followed: as recorded, else :func:`line_before`."""
    ks = b.ks("therapies")
    date = b.c("disease_response_date", "date")
    before = pl.when(date.is_null()).then(b.day).otherwise(date)
    definite, ambiguous = {}, {}
    for k in ks:
        start, end = b.s("therapies", k, "start"), b.s("therapies", k, "end")
        applies = applies_expr(b, k, condition)
        present = anti_disease_expr(b, k) & (applies != NOT_MET)
        ended_before = (end <= date).fill_null(False)
        undated_after = start.is_null() & date.is_not_null() & ~ended_before
        by_date = ~undated_after & (
            start.is_null() | (start.is_not_null() & (start <= before))
        ).fill_null(False)
        definite[k] = present & by_date & (applies == MET)
        ambiguous[k] = present & (undated_after | (by_date & (applies == UNKNOWN)))
    lines = {k: b.s("therapies", k, "line") for k in ks}
    all_lined = cx.all_([~(definite[k] | ambiguous[k]) | lines[k].is_not_null() for k in ks])
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
        .when(usable & cx.any_(list(definite.values())) & all_lined & order_known.fill_null(False))
        .then(derived)
    )


def superseded_expr(b: Builder, condition: str | None) -> pl.Expr:
    """A course (for the condition, or of unknown indication) started after the dated disease
    status and by the screening date (:func:`superseding_course`)."""
    date = b.c("disease_response_date", "date")
    ks = b.ks("therapies")
    if not ks:
        return pl.lit(False)

    def build() -> pl.Expr:
        later = []
        for k in ks:
            start = b.s("therapies", k, "start")
            later.append(
                anti_disease_expr(b, k)
                & (applies_expr(b, k, condition) != NOT_MET)
                & (start > date).fill_null(False)
                & (start <= b.day).fill_null(False)
            )
        return cx.any_(later)

    return b.shared(("response", "superseded", condition), build)
