"""``trialmatch import``: records from real systems in, trialmatch files out (FHIR patient
bundles, ClinicalTrials.gov study records). One module per source registers its subcommand."""

from __future__ import annotations

import typer

from trialmatch.cli.common import app

import_app = typer.Typer(
    name="import",
    help="Turn FHIR patient records and ClinicalTrials.gov study records into trialmatch files.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(
    import_app, name="import", short_help="Import FHIR patients or ClinicalTrials.gov studies."
)
