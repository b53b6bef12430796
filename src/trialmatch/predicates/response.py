"""``response``: the current disease response at least / at most a category, after given lines
or settings, assessed by given methods (or the best response of the course before)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Setting,
    TherapyOutcome,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import normalise
from trialmatch.predicates.base import (
    MAX_DAYS,
    Args,
    Predicate,
    Reads,
    cx,
    ev,
    pl,
    stale_reason,
)
from trialmatch.predicates.context import Context, setting_matches, therapy_label
from trialmatch.predicates.dates import dated_after
from trialmatch.predicates.history import (
    RESPONSE_ORDER,
    chosen_value_expr,
    course_before,
    line_before,
    response_category,
    response_line_expr,
    setting_code_expr,
    status_usable_expr,
    superseded_expr,
    superseding_course,
)

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


ResponseName = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"]


class ResponseArgs(Args):
    """Current disease response (from ``disease_status``) at least / at most a category, after
    given lines or settings, assessed by given methods."""

    at_least: ResponseName | None = None
    at_most: ResponseName | None = None
    after_line_in: list[int] | None = None
    after_setting_in: list[Setting] | None = None
    assessed_by_in: list[str] | None = None
    max_age_days: int | None = Field(None, ge=0, le=MAX_DAYS)
    for_condition: str | None = Field(
        None, description="only courses for this disease count as the course the response followed"
    )

    @model_validator(mode="after")
    def _some(self) -> ResponseArgs:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least or at_most (a response category)")
        if (
            self.at_least is not None
            and self.at_most is not None
            and RESPONSE_ORDER[self.at_least] > RESPONSE_ORDER[self.at_most]
        ):
            raise ValueError(
                f"the bounds at_least {self.at_least} and at_most {self.at_most} admit no response"
            )
        return self

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("for_condition",), "condition", self.for_condition)] if self.for_condition else []


def assessed_by_matches(text: str, methods: Sequence[str]) -> bool:
    """Whether an assessment method names one of ``methods`` (PET-CT counts as CT).

    >>> assessed_by_matches("PET-CT", ["CT"]), assessed_by_matches("bone marrow", ["CT"])
    (True, False)
    """
    tokens = set(normalise(text).replace("/", " ").split())
    return any(normalise(m) in tokens or normalise(m) == normalise(text) for m in methods)


def _response_want(args: ResponseArgs) -> str:
    parts = []
    if args.at_least:
        parts.append(f"{args.at_least} or better")
    if args.at_most:
        parts.append(f"{args.at_most} or worse")
    want = "response " + " and ".join(parts)
    if args.after_line_in:
        want += f" after line {' or '.join(map(str, args.after_line_in))}"
    if args.after_setting_in:
        want += f" after {' or '.join(s.value for s in args.after_setting_in)} therapy"
    if args.assessed_by_in:
        want += f", assessed by {' or '.join(args.assessed_by_in)}"
    return want


def rank_ok(args: ResponseArgs, rank: int) -> bool:
    return (args.at_least is None or rank >= RESPONSE_ORDER[args.at_least]) and (
        args.at_most is None or rank <= RESPONSE_ORDER[args.at_most]
    )


# What a course's outcome says of the response after it: no response means SD or PD.
OUTCOME_RANKS = {
    TherapyOutcome.no_response: (RESPONSE_ORDER["SD"], RESPONSE_ORDER["PD"]),
    TherapyOutcome.progression: (RESPONSE_ORDER["PD"],),
}


def _response_from_course(args: ResponseArgs, ctx: Context, want: str, lead: str) -> Evidence:
    """No usable disease status: a latest course that ended without response (or with
    progression) still settles what response followed it."""
    latest, _ = course_before(ctx, None, args.for_condition)
    outcome = ctx.outcome(latest) if latest is not None else None
    if latest is None or outcome not in OUTCOME_RANKS:
        return ev(
            "response",
            Verdict.unknown,
            f"{lead}current response not recorded; needs {want}",
            threshold=want,
            missing=("current disease status (response)",),
        )
    ranks = OUTCOME_RANKS[outcome]
    seen = "SD or PD" if len(ranks) > 1 else "PD"
    observed = f"{therapy_label(latest)}: {seen}"
    said = f"{lead}the latest course {therapy_label(latest)} ended "
    said += "without response" if outcome is TherapyOutcome.no_response else "in progression"
    oks = [rank_ok(args, r) for r in ranks]
    if not any(oks):
        return ev(
            "response",
            Verdict.not_met,
            f"{said}, so no response ({seen}) followed it; needs {want}",
            observed=observed,
            observed_date=latest.end,
            threshold=want,
        )
    missing: list[str] = []
    if not all(oks):
        missing.append("current disease status (response)")
    stale = stale_reason(latest.end, args.max_age_days, ctx.as_of)
    if stale:
        missing.append("current disease status (recent)")
    if args.after_line_in:
        if latest.line is None:
            missing.append("line of therapy the response followed")
        elif latest.line not in args.after_line_in:
            return ev(
                "response",
                Verdict.not_met,
                f"{said} (line {latest.line}); needs {want}",
                observed=observed,
                observed_date=latest.end,
                threshold=want,
            )
    if args.after_setting_in:
        fits = setting_matches(latest.setting, latest.line, args.after_setting_in)
        if fits is None:
            missing.append("setting of the therapy the response followed")
        elif not fits:
            return ev(
                "response",
                Verdict.not_met,
                f"{said}; needs {want}",
                observed=observed,
                observed_date=latest.end,
                threshold=want,
            )
    if args.assessed_by_in:
        missing.append("how the response was assessed")
    if missing:
        return ev(
            "response",
            Verdict.unknown,
            f"{said} ({seen}); {', '.join(missing)} not recorded; needs {want}",
            observed=observed,
            observed_date=latest.end,
            threshold=want,
            missing=tuple(dict.fromkeys(missing)),
        )
    return ev(
        "response",
        Verdict.met,
        f"{said} ({seen}); needs {want}",
        observed=observed,
        observed_date=latest.end,
        threshold=want,
    )


def eval_response(args: ResponseArgs, ctx: Context) -> Evidence:
    """Current response category (from disease_status) with line/setting/method filters.
    Without a disease status, a latest course that ended without response or in progression
    decides what it can (no PR after it)."""
    want = _response_want(args)
    s = ctx.patient.disease_status
    lead = "no disease status recorded; "
    if s is not None and dated_after(s.date, ctx.as_of):
        lead = f"disease status dated {s.date} is after the screening date (ignored); "
        s = None
    elif s is not None and s.response is None:
        lead = "the disease status records no response; "
    elif s is not None:
        later = superseding_course(ctx, s.date, args.for_condition)
        if later is not None:
            lead = (
                f"the response {s.response} of {s.date} predates {therapy_label(later)}, so it "
                "is no longer the current one; "
            )
            s = None
    if s is None or s.response is None:
        return _response_from_course(args, ctx, want, lead)
    cat = response_category(s.response)
    observed = f"{s.response}" + (f" by {s.assessed_by}" if s.assessed_by else "")
    if cat is None:
        return ev(
            "response",
            Verdict.unknown,
            f"response {s.response!r} is not a known category ({', '.join(RESPONSE_ORDER)})",
            observed=observed,
            observed_date=s.date,
            threshold=want,
            missing=("response as a standard category",),
        )
    stale = stale_reason(s.date, args.max_age_days, ctx.as_of)
    if stale:
        return ev(
            "response",
            Verdict.unknown,
            f"response assessment is stale ({stale})",
            observed=observed,
            observed_date=s.date,
            threshold=want,
            missing=("current disease status (recent)",),
        )
    if not rank_ok(args, RESPONSE_ORDER[cat]):
        return ev(
            "response",
            Verdict.not_met,
            f"current response {observed}; needs {want}",
            observed=observed,
            observed_date=s.date,
            threshold=want,
        )
    missing: list[str] = []
    notes: list[str] = []
    if args.after_line_in:
        line = (
            s.after_line
            if s.after_line is not None
            else line_before(ctx, s.date, args.for_condition)
        )
        if line is None:
            missing.append("line of therapy the response followed")
        elif line not in args.after_line_in:
            return ev(
                "response",
                Verdict.not_met,
                f"{observed} after line {line}; needs {want}",
                observed=f"{observed} after line {line}",
                observed_date=s.date,
                threshold=want,
            )
        else:
            notes.append(f"after line {line}")
    if args.after_setting_in:
        latest, why = course_before(ctx, s.date, args.for_condition)
        fits = (
            setting_matches(latest.setting, latest.line, args.after_setting_in)
            if latest is not None
            else None
        )
        if latest is None or fits is None:
            missing.append("setting of the therapy the response followed")
            if why:
                notes.append(why)
        elif not fits:
            return ev(
                "response",
                Verdict.not_met,
                f"{observed} followed {therapy_label(latest)}; needs {want}",
                observed=observed,
                observed_date=s.date,
                threshold=want,
            )
        else:
            notes.append(f"after {therapy_label(latest)}")
    if args.assessed_by_in:
        if s.assessed_by is None:
            missing.append("how the response was assessed")
        elif not assessed_by_matches(s.assessed_by, args.assessed_by_in):
            return ev(
                "response",
                Verdict.not_met,
                f"response assessed by {s.assessed_by}; needs {want}",
                observed=observed,
                observed_date=s.date,
                threshold=want,
            )
    extra = f" ({'; '.join(notes)})" if notes else ""
    if missing:
        return ev(
            "response",
            Verdict.unknown,
            f"{observed}, but {', '.join(missing)} not recorded{extra}",
            observed=observed,
            observed_date=s.date,
            threshold=want,
            missing=tuple(missing),
        )
    return ev(
        "response",
        Verdict.met,
        f"current response {observed}{extra}; needs {want}",
        observed=observed,
        observed_date=s.date,
        threshold=want,
    )


def _rank_code_expr(args: ResponseArgs, ranks: Sequence[int]) -> int:
    """MET if every rank qualifies, NOT_MET if none does, else UNKNOWN."""
    oks = [rank_ok(args, r) for r in ranks]
    return MET if all(oks) else (NOT_MET if not any(oks) else UNKNOWN)


def compile_response(args: ResponseArgs, b: Builder) -> pl.Expr:
    response, date = b.c("disease_response"), b.c("disease_response_date", "date")
    rank = b.mapped(response, lambda r: RESPONSE_ORDER.get(response_category(r) or "", 0), pl.Int32)
    ok = pl.lit(True)
    if args.at_least:
        ok = ok & (rank >= RESPONSE_ORDER[args.at_least])
    if args.at_most:
        ok = ok & (rank <= RESPONSE_ORDER[args.at_most])
    mismatch: list[pl.Expr] = []
    missing: list[pl.Expr] = []
    cond = args.for_condition
    if args.after_line_in:
        line = b.shared(("response", "line", cond), partial(response_line_expr, b, cond))
        missing.append(line.is_null())
        mismatch.append(line.is_not_null() & ~line.is_in(args.after_line_in).fill_null(False))
    if args.after_setting_in:
        fits = setting_code_expr(
            args.after_setting_in,
            chosen_value_expr(b, "status", "setting", cond),
            chosen_value_expr(b, "status", "line", cond),
        )
        missing.append(fits == UNKNOWN)
        mismatch.append(fits == NOT_MET)
    if args.assessed_by_in:
        methods = args.assessed_by_in

        def by(text: str) -> bool:
            return assessed_by_matches(text, methods)

        assessed = b.c("disease_response_assessed_by")
        missing.append(assessed.is_null())
        mismatch.append(assessed.is_not_null() & ~b.mapped(assessed, by, pl.Boolean))
    from_status = (
        pl.when(rank == 0)
        .then(cx.lit(UNKNOWN))
        .when(cx.stale(date, args.max_age_days, b))
        .then(cx.lit(UNKNOWN))
        .when(~ok)
        .then(cx.lit(NOT_MET))
        .when(cx.any_(mismatch))
        .then(cx.lit(NOT_MET))
        .when(cx.any_(missing))
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.lit(MET))
    )
    return (
        pl.when(status_usable_expr(b) & ~superseded_expr(b, cond))
        .then(from_status)
        .otherwise(
            b.shared(
                ("response", "course", args.model_dump_json()), partial(_from_course_expr, args, b)
            )
        )
    )


def _from_course_expr(args: ResponseArgs, b: Builder) -> pl.Expr:
    """No usable disease status: what the latest course's outcome settles
    (:func:`_response_from_course`)."""
    cond = args.for_condition
    outcome = chosen_value_expr(b, "now", "outcome", cond)
    codes = {o.value: _rank_code_expr(args, ranks) for o, ranks in OUTCOME_RANKS.items()}
    code = pl.lit(None, dtype=cx.CODE)
    for value, c in codes.items():
        code = pl.when(outcome == value).then(cx.lit(c)).otherwise(code)
    mismatch: list[pl.Expr] = []
    missing: list[pl.Expr] = [code == UNKNOWN]
    line = chosen_value_expr(b, "now", "line", cond)
    end = chosen_value_expr(b, "now", "end", cond)
    missing.append(cx.stale(end, args.max_age_days, b))
    if args.after_line_in:
        missing.append(line.is_null())
        mismatch.append(line.is_not_null() & ~line.is_in(args.after_line_in).fill_null(False))
    if args.after_setting_in:
        fits = setting_code_expr(
            args.after_setting_in, chosen_value_expr(b, "now", "setting", cond), line
        )
        missing.append(fits == UNKNOWN)
        mismatch.append(fits == NOT_MET)
    if args.assessed_by_in:
        missing.append(pl.lit(True))
    return (
        pl.when(code.is_null())
        .then(cx.lit(UNKNOWN))
        .when(code == NOT_MET)
        .then(cx.lit(NOT_MET))
        .when(cx.any_(mismatch))
        .then(cx.lit(NOT_MET))
        .when(cx.any_(missing))
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.lit(MET))
    )


PREDICATES = (
    Predicate(
        "response",
        ResponseArgs,
        eval_response,
        compile_response,
        reads=Reads(
            scalars=(
                "disease_response",
                "disease_response_date",
                "disease_response_assessed_by",
                "disease_response_after_line",
            ),
            lists=("therapies",),
        ),
    ),
)
