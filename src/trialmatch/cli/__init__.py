"""The ``trialmatch`` command line: one module per command, each thin (parse options, call the
library, report). Bad input of any kind prints ``file:line:column: message`` to stderr and exits
with 2.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import sys

import typer

from trialmatch.cli.common import app

__all__ = ["app", "main"]

# Each command module registers its command on ``app``; ``--help`` lists them in this order.
COMMANDS = (
    "check",
    "validate",
    "show",
    "trials",
    "schema",
    "screen",
    "template",
    "importing",
    "import_fhir",
    "import_ctgov",
    "version",
)
for _name in COMMANDS:
    importlib.import_module(f"trialmatch.cli.{_name}")


def _on_signal(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: remove the temporary output, say so, and exit at once (raising here
    could land inside a Polars call and come out as another error)."""
    import os
    import signal

    from trialmatch.io.output import remove_pending

    remove_pending()
    name = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted (Ctrl-C)"
    with contextlib.suppress(OSError):
        os.write(2, f"{name}: stopped; no partial output was kept\n".encode())
    os._exit(128 + signum)


def main() -> None:
    """Console entry point: Ctrl-C and SIGTERM stop cleanly (a partial output file is removed
    and stderr says so); a closed pipe (``| head``) ends quietly."""
    import signal

    signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_signal)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted (Ctrl-C): stopped; no partial output was kept", err=True)
        sys.exit(130)
    except OSError as exc:
        # A closed pipe reaches us as BrokenPipeError, or as Polars' OSError "Broken pipe".
        broken = exc.errno == errno.EPIPE or "Broken pipe" in str(exc)
        if isinstance(exc, BrokenPipeError) or broken:
            _quiet_exit_on_closed_pipe()
        typer.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
        sys.exit(2)


def _quiet_exit_on_closed_pipe() -> None:
    """The reader of standard output went away: stop without a traceback (exit 141, as a
    process ended by SIGPIPE)."""
    import os

    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    os._exit(141)
