"""Stages do not leak: imports point down the stages, the engine never imports the CLI or
terminal libraries, checking a patient never imports Polars, and modules stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
    """Nothing that decides a verdict reads the clock: the screening date is an input."""
    deciding = ("model/", "columnar/", "predicates/", "engine/", "batch/")
    for rel, path in _modules():
        if not rel.startswith(deciding):
            continue
        source = path.read_text(encoding="utf-8")
        for call in ("date.today(", "datetime.now(", "time.time(", "datetime.today("):
            assert call not in source, f"{rel} calls {call}"


def test_every_predicate_module_is_in_the_operator_table() -> None:
    """A module under predicates/ that defines PREDICATES is registered, each with both
    engines; the shared modules define none."""
    import importlib
    import pkgutil

    import trialmatch.predicates as predicates

    shared = {"base", "context", "dates", "history"}
    for info in pkgutil.iter_modules(predicates.__path__):
        module = importlib.import_module(f"trialmatch.predicates.{info.name}")
        defined = getattr(module, "PREDICATES", ())
        if info.name in shared:
            assert defined == (), info.name
            continue
        assert defined, f"predicates/{info.name}.py defines no PREDICATES"
        assert module in predicates.MODULES, f"predicates/{info.name}.py is not in MODULES"
        for p in defined:
            assert predicates.REGISTRY[p.name] is p
            assert callable(p.evaluate) and callable(p.compile), p.name


def test_only_the_cli_and_the_terminal_reporters_import_the_cli_or_rich() -> None:
    """Imports point down: no library module imports the command line, and only the CLI, the
    terminal reporters and the screen runner (its progress bar) import rich or typer."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "src" / "trialmatch"
    terminal = {"report/table.py", "report/screen_summary.py", "report/screen_runner.py"}
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


ROOT = Path(__file__).resolve().parents[1] / "src" / "trialmatch"

# The stages, lowest first: a module may import its own stage and the stages below it.
RANKS = {
    "": 0,  # trialmatch/__init__.py, errors.py, lazy.py
    "io": 1,
    "model": 2,
    "columnar": 3,
    "predicates": 4,
    "engine": 5,
    "batch": 6,
    "report": 7,
    "cli": 8,
    "__main__": 9,
}


def _modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(ROOT).as_posix(), p) for p in sorted(ROOT.rglob("*.py"))]


def _stage(rel_or_module: str) -> str:
    """The stage of ``io/yamlio.py`` or ``trialmatch.io.yamlio``: its folder, or "" for a
    top-level module."""
    if rel_or_module.endswith(".py"):
        parts = rel_or_module.removesuffix(".py").split("/")
    else:
        parts = rel_or_module.split(".")[1:]
    if parts == ["__main__"]:
        return "__main__"
    return parts[0] if len(parts) > 1 or (parts and (ROOT / parts[0]).is_dir()) else ""


def _imports(path: Path, module_level_only: bool = False) -> list[str]:
    """The trialmatch modules a file imports (with TYPE_CHECKING blocks, unless
    ``module_level_only``: then only what runs when the module is imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        if module_level_only:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return  # runs when called, not on import
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                return
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{node.module}.{alias.name}"
                names.append(sub if _is_module(sub) else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [n for n in names if n == "trialmatch" or n.startswith("trialmatch.")]


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def _module_name(rel: str) -> str:
    name = "trialmatch." + rel.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def test_imports_point_down_the_stages() -> None:
    """io < model < columnar < predicates < engine < batch < report < cli: no module imports
    a later stage, not even for type checking."""
    offenders = []
    for rel, path in _modules():
        here = _stage(rel)
        assert here in RANKS, f"{rel}: a stage the architecture does not name"
        for name in _imports(path):
            there = _stage(name)
            if RANKS[there] > RANKS[here]:
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_predicates_never_import_batch_reading_the_reports_or_the_cli() -> None:
    offenders = [
        f"{rel}: {name}"
        for rel, path in _modules()
        if rel.startswith("predicates/")
        for name in _imports(path)
        if name.startswith(("trialmatch.batch", "trialmatch.cli", "trialmatch.report",
                            "trialmatch.io.csvrows", "trialmatch.engine"))
    ]
    assert offenders == []


def test_no_import_cycles() -> None:
    """What runs at import time forms no cycle (a cycle makes import order matter)."""
    graph: dict[str, set[str]] = {}
    for rel, path in _modules():
        deps = set()
        for name in _imports(path, module_level_only=True):
            deps.add(name)
        graph[_module_name(rel)] = deps
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*stack[stack.index(dep):], dep]))
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_module_is_over_600_lines() -> None:
    long = {rel: n for rel, path in _modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_checking_a_patient_never_imports_polars() -> None:
    """Polars (and the columnar engine) load only for batch screening; `check` stays quick."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from trialmatch.cli import app\n"
        "run = CliRunner().invoke(app, ['check', 'examples/patients/tcl-missing-response.yaml',"
        " '--as-of', '2026-11-21', '-f', 'json'])\n"
        "assert run.exit_code == 0, run.output\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'polars' or m.startswith("
        "('trialmatch.batch', 'trialmatch.columnar.exprs', 'trialmatch.columnar.builder')))\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parents[1])
    assert out.stdout.strip() == ""


def test_every_predicate_module_has_its_test_module() -> None:
    """``predicates/lab.py`` is tested in ``tests/predicates/test_lab.py``."""
    import trialmatch.predicates as predicates

    tests = Path(__file__).resolve().parent / "predicates"
    missing = [m.__name__ for m in predicates.MODULES
               if not (tests / f"test_{m.__name__.rsplit('.', 1)[1]}.py").is_file()]
    assert missing == []


def test_the_readme_documents_every_predicate_in_registry_order() -> None:
    import re

    from trialmatch.predicates import REGISTRY

    readme = (ROOT.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Criteria language", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert rows == list(REGISTRY)


def test_the_shared_predicate_modules_never_import_a_predicate() -> None:
    """base, context, dates and history sit below every predicate; lab may use condition (a
    condition settles a lab criterion), but nothing shared may use a predicate."""
    import trialmatch.predicates as predicates

    names = {m.__name__ for m in predicates.MODULES}
    offenders = [
        f"predicates/{shared}.py imports {name}"
        for shared in ("base", "context", "dates", "history")
        for name in _imports(ROOT / "predicates" / f"{shared}.py")
        if name in names
    ]
    assert offenders == []
