"""``trialmatch import fhir``: a FHIR R4 patient bundle as a patient file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli.common import Force, OutputFile, as_of_date, fail, input_errors
from trialmatch.cli.importing import import_app


@import_app.command("fhir", short_help="A FHIR patient bundle as a patient file (YAML).")
@input_errors
def import_fhir(
    bundle: Annotated[
        Path,
        typer.Argument(
            help="A FHIR R4 Bundle (JSON) of one patient.", show_default=False, metavar="BUNDLE"
        ),
    ],
    output: OutputFile = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Keep the ECOG, pregnancy and disease status recorded on or before this date "
            "(default: the latest).",
            metavar="DATE",
        ),
    ] = None,
    skip_errors: Annotated[
        bool,
        typer.Option(
            "--skip-errors",
            help="Write the patient file without the resources in error (still listed).",
        ),
    ] = False,
    force: Force = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not print warnings on stderr.")
    ] = False,
) -> None:
    """Write the patient file equivalent to a FHIR bundle, for a coordinator to review,
    complete and attest. Everything not imported is a warning on stderr with its JSON path; a
    resource holding a value no patient can have (ECOG -1, two values) is an error: exit 2 and
    nothing written, unless --skip-errors.

    Example: trialmatch import fhir examples/fhir/myeloma-maintenance.json -o patient.yaml
    """
    from trialmatch.io.printable import printable
    from trialmatch.model.fhir import patient_of, read_bundle, to_yaml

    day = as_of_date(as_of) if as_of is not None else None
    if output == Path("-"):  # the usual spelling of standard output
        output = None
    if output is not None:
        from trialmatch.io.output import check_output

        check_output(output, [bundle])
        if output.is_file() and not force:  # a completed, attested file is not lost
            raise fail(f"{output} exists; choose another file, or replace it with --force")
    imported = read_bundle(bundle, day)
    if not quiet:
        for line in imported.warning_lines():
            typer.echo(printable(line), err=True)
    for line in imported.error_lines():
        typer.echo(f"error: {printable(line)}", err=True)
    if imported.errors and not skip_errors:
        raise fail(
            f"{len(imported.errors)} resource(s) in error; nothing written "
            "(--skip-errors writes the patient file without them)"
        )
    patient_of(imported, day)  # the file written must load as a patient
    text = to_yaml(imported)
    if output is None:
        sys.stdout.write(text)
        return
    from trialmatch.io.output import atomic_file

    with atomic_file(output) as fh:
        fh.write(text.encode("utf-8"))
    if not quiet:
        typer.echo(f"wrote {printable(str(output))} (patient {imported.patient['id']})", err=True)
