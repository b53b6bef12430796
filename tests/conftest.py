"""Shared test helpers: repository paths and a CLI runner that keeps stdout and stderr apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialmatch.cli import app

ROOT = Path(__file__).resolve().parents[1]
CRITERIA = ROOT / "criteria"
PATIENTS = ROOT / "examples" / "patients"
AS_OF = "2026-11-21"


@dataclass(frozen=True)
class Run:
    """The outcome of one CLI invocation."""

    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> object:
    """Invoke the trialmatch CLI in-process: ``cli(["check", ...]) -> Run``."""
    runner = CliRunner()

    def run(args: Sequence[str]) -> Run:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
