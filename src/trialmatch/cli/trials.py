"""``trialmatch trials``: list trials by condition, status, phase and type."""

from __future__ import annotations

from typing import Annotated

import typer

from trialmatch.cli.common import (
    CriteriaDir,
    app,
    fail,
    input_errors,
    load_trials,
)


@app.command(short_help="List trials by condition, status, phase, type.")
@input_errors
def trials(
    condition: Annotated[
        str | None,
        typer.Option(
            "--condition",
            "-c",
            help="Condition term or ICD-10-CM code prefix (synonyms and subtypes are followed).",
            metavar="TERM|CODE",
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", help="Recruitment status, any case (repeatable).", metavar="STATUS"
        ),
    ] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option("--phase", help="Phase, e.g. 2 (repeatable).", metavar="PHASE"),
    ] = None,
    study_type: Annotated[
        str | None,
        typer.Option("--type", help="Study type.", metavar="[interventional|observational]"),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format.", metavar="[table|json]")
    ] = "table",
    criteria: CriteriaDir = None,
) -> None:
    """List trials, filtered by condition (through synonyms and the hierarchy), status, phase, type.

    Example: trialmatch trials --condition myeloma --status recruiting
    """
    from trialmatch.report.listing import ListingError, find_trials, render_json, render_table

    if fmt not in ("table", "json"):
        raise fail(f"--format {fmt!r} is not allowed (allowed: table, json)")
    loaded = load_trials(criteria, None)
    try:
        found = find_trials(
            loaded,
            condition=condition,
            statuses=status or [],
            phases=phase or [],
            study_type=study_type,
        )
    except ListingError as exc:
        raise fail(str(exc)) from None
    typer.echo(render_json(found) if fmt == "json" else render_table(found), nl=False)


