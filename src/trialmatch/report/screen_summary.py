"""The terminal summary of a ``screen`` run: verdicts per trial and an attrition table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trialmatch.batch import Summary
from trialmatch.criteria import LoadedTrial
from trialmatch.printable import printable


def build(summary: Summary, trials: list[LoadedTrial], console: Console) -> None:
    """Print per-trial verdict counts, then per criterion how many it excluded or left unknown."""
    console.print(
        Text.assemble(
            (f"Screened {summary.rows} patient rows", "bold"),
            f" ({summary.error_rows} could not be read)",
        )
    )
    table = Table(title="Verdicts per trial", title_justify="left")
    for col in ("trial", "eligible", "possibly eligible", "ineligible", "error"):
        table.add_column(col, justify="left" if col == "trial" else "right")
    for t in trials:
        v = summary.trials[t.trial.id].verdicts
        table.add_row(
            Text(printable(t.trial.id)),
            str(v["eligible"]),
            str(v["possibly_eligible"]),
            str(v["ineligible"]),
            str(v["error"]),
        )
    console.print(table)
    for t in trials:
        tally = summary.trials[t.trial.id]
        attrition = Table(title=Text(printable(f"Attrition: {t.trial.id}")), title_justify="left")
        attrition.add_column("criterion")
        attrition.add_column("excluded", justify="right")
        attrition.add_column("unknown", justify="right")
        for kind, c in t.trial.criteria:
            attrition.add_row(
                Text(printable(f"{kind[:3]} {c.id}")),
                str(tally.excluded.get(c.id, 0)),
                str(tally.unknown.get(c.id, 0)),
            )
        console.print(attrition)
