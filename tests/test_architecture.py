"""Stages do not leak: the engine never imports the CLI or terminal libraries."""

from __future__ import annotations

import subprocess
import sys

ENGINE = ["trialmatch.engine.evaluate", "trialmatch.predicates", "trialmatch.engine.criteria",
          "trialmatch.engine.data_warnings", "trialmatch.engine.validation",
          "trialmatch.model.patient", "trialmatch.model.vocab", "trialmatch.model.results",
          "trialmatch.report.json_report", "trialmatch.report.markdown",
          "trialmatch.report.contract", "trialmatch.report.schemas", "trialmatch.report.listing",
          "trialmatch.report.showing", "trialmatch.report.wrapping", "trialmatch.report.steps"]


def test_engine_imports_neither_rich_nor_typer() -> None:
    code = ("import sys\n"
            + "".join(f"import {m}\n" for m in ENGINE)
            + "ui = ('rich', 'typer', 'click')\n"
            + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
            + "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_engine_never_reads_the_clock() -> None:
    import inspect

    import trialmatch.engine.evaluate
    import trialmatch.predicates

    for module in (trialmatch.engine.evaluate, trialmatch.predicates):
        source = inspect.getsource(module)
        for call in ("date.today(", "datetime.now(", "time.time(", "datetime.today("):
            assert call not in source, f"{module.__name__} calls {call}"


def test_every_predicate_has_a_columnar_compiler() -> None:
    from trialmatch.columnar import unsupported

    assert unsupported() == []


def test_only_the_cli_and_the_terminal_reporters_import_the_cli_or_rich() -> None:
    """Imports point down: no library module imports the command line, and only the CLI, the
    terminal reporters and the screen runner (its progress bar) import rich or typer."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "src" / "trialmatch"
    terminal = {"report/table.py", "report/screen_summary.py", "batch/runner.py"}
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("cli/") or rel == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                cli = name.startswith("trialmatch.cli") or top == "typer"
                if cli or (top == "rich" and rel not in terminal):
                    offenders.append(f"{rel}: {name}")
    assert offenders == []
