"""``trialmatch version``."""

from __future__ import annotations

import typer

from trialmatch import __version__
from trialmatch.cli.common import (
    app,
)


@app.command(short_help="Print the trialmatch version.")
def version() -> None:
    """Print the trialmatch version.

    Example: trialmatch version
    """
    typer.echo(__version__)


