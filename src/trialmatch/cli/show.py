"""``trialmatch show``: one trial's criteria with their source text."""

from __future__ import annotations

from typing import Annotated

import typer

from trialmatch.cli.common import (
    CriteriaDir,
    app,
    input_errors,
    load_trials,
)


@app.command(short_help="Print a trial's criteria with their source text.")
@input_errors
def show(
    trial_id: Annotated[str, typer.Argument(metavar="TRIAL", help="Trial id.", show_default=False)],
    criteria: CriteriaDir = None,
) -> None:
    """Print a trial's metadata and every criterion: source text, encoding and coverage.

    Example: trialmatch show NCT01421927
    """
    from trialmatch.report.showing import render_trial

    (loaded,) = load_trials(criteria, [trial_id])
    typer.echo(render_trial(loaded), nl=False)


