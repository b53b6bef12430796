"""``trialmatch schema``: JSON Schemas generated from the models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from trialmatch.cli.common import (
    app,
)


class SchemaName(StrEnum):
    """What ``trialmatch schema`` can describe."""

    patient = "patient"
    criteria = "criteria"
    report = "report"
    screen = "screen"
    trials = "trials"


@app.command(short_help="Print a JSON Schema (patient, criteria, outputs).")
def schema(
    name: Annotated[
        SchemaName,
        typer.Argument(
            metavar="NAME",
            help="patient or criteria (the YAML files); report (check), screen or trials "
            "(their JSON output).",
            show_default=False,
        ),
    ],
) -> None:
    """Print a JSON Schema, generated from the models: for editors' YAML support and for
    programs reading the JSON output.

    Example: trialmatch schema patient > patient.schema.json
    """
    from trialmatch.report.schemas import render

    typer.echo(render(name.value), nl=False)


