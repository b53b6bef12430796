"""The terminal summary of a ``screen`` run: verdicts per trial, an attrition waterfall per
trial (like the screening box of a CONSORT diagram) and the rows that could not be read.

Line-oriented, with fixed-width numbers, for the console's width (80 columns and up): trial
and criterion ids are never cut; one too long for its column gets a line of its own. Data are
printed as plain text (never markup), control characters as visible escapes.

Waterfall order: at each step the criterion that rules out the most rows still remaining
(ties: protocol order, inclusions before exclusions); see :meth:`TrialTally.waterfall`.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from trialmatch.batch.records import ErrorKind, Summary, error_kinds
from trialmatch.engine.criteria import LoadedTrial
from trialmatch.io.printable import printable

MIN_LABEL = 24  # the label column never gets narrower than this


def percent(n: int, total: int) -> str:
    """``n`` as a share of ``total``, never rounded to 0% or 100% when it is neither.

    >>> percent(1, 3), percent(9_999, 10_000), percent(1, 10_000), percent(0, 0)
    ('33.3%', '99.9%', '<0.1%', '-')
    """
    if total == 0:
        return "-"
    share = 100 * n / total
    if 0 < n < total:
        share = min(max(share, 0.1), 99.9)
        if 100 * n / total < 0.1:
            return "<0.1%"
    return f"{share:.1f}%"


def _fold(text: str, width: int) -> list[str]:
    """``text`` cut into pieces of at most ``width`` cells (only for a word longer than a
    whole line: nothing is lost, each piece on its own line)."""
    pieces, piece = [], ""
    for ch in text:
        if cell_len(piece + ch) > width:
            pieces.append(piece)
            piece = ""
        piece += ch
    return [*pieces, piece]


def wrap(text: str, width: int, indent: str = "", hang: str = "    ") -> list[str]:
    """``text`` wrapped at word boundaries to ``width`` cells, later lines indented by
    ``hang``; a word never splits unless it is longer than a whole line.

    >>> wrap("unterminated quote: 3 rows (rows 6, 19, 44)", 24, "  ")
    ['  unterminated quote: 3', '      rows (rows 6, 19,', '      44)']
    """
    lines: list[str] = []
    line = ""  # the words of the current line, without its indent

    def lead() -> str:
        return indent if not lines else indent + hang

    for word in text.split(" "):
        if line and cell_len(lead() + line + " " + word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(lead() + line)
        while cell_len(lead() + word) > width and cell_len(word) > 1:
            first, *rest = _fold(word, max(1, width - cell_len(lead())))
            lines.append(lead() + first)
            word = "".join(rest)
        line = word
    return [*lines, lead() + line]


class _Columns:
    """A label column and four right-aligned number columns, fitted to ``width``."""

    HEADS = ("ruled out", "remain", "%", "unknown")

    def __init__(self, width: int, biggest: int) -> None:
        self.num = max(len(f"{biggest:,}"), len("ruled out"))
        self.width = width
        # indent 2, label, a space, the numbers (three wide, the percent, the gaps): one
        # cell to spare, so a line never touches the last column.
        self.label = max(MIN_LABEL, width - 1 - 3 - (3 * self.num + 6 + 6))

    def row(self, label: str, *cells: str) -> list[str]:
        """One label and its numbers; a label too long for its column gets its own line."""
        numbers = "".join(
            f"{c:>{6 if k == 2 else self.num}}" + ("  " if k < 3 else "")
            for k, c in enumerate(cells)
        ).rstrip()
        head: list[str] = []
        if cell_len(label) > self.label:
            head = ["  " + p for p in _fold(label, self.width - 2)]
            label = ""
        pad = " " * (self.label - cell_len(label))
        return [*head, ("  " + label + pad + " " + numbers).rstrip()]


def _n(n: int) -> str:
    return f"{n:,}"


def lines(summary: Summary, trials: list[LoadedTrial], width: int = 80) -> Iterator[Text]:
    """The summary as lines of plain text (no markup), each at most ``width`` cells.

    >>> from trialmatch.batch.records import TrialTally
    >>> [str(t) for t in lines(Summary({}, rows=3), [])][0]
    'Screened 3 patient rows (0 could not be read)'
    """
    total = summary.rows
    head = f"Screened {_n(total)} patient rows ({_n(summary.error_rows)} could not be read)"
    for line in wrap(head, width):
        yield Text(line, style="bold")
    if trials:
        yield Text("")
        yield from _verdicts(summary, trials, width)
    for t in trials:
        yield Text("")
        yield from _waterfall(summary, t, width)
    if summary.errors:
        yield Text("")
        yield from _errors(summary, width)


def _verdicts(summary: Summary, trials: list[LoadedTrial], width: int) -> Iterator[Text]:
    biggest = max([summary.rows, 10_000])
    num = len(f"{biggest:,}")
    heads = ("eligible", "possibly", "ineligible", "error")
    cols = [max(num, len(h)) for h in heads]
    label = max(MIN_LABEL, width - 1 - 2 - sum(c + 2 for c in cols))

    def row(name: str, cells: tuple[str, ...]) -> list[str]:
        numbers = "  ".join(f"{c:>{w}}" for c, w in zip(cells, cols, strict=True))
        if cell_len(name) > label:
            return ["  " + p for p in _fold(name, width - 2)] + [" " * (label + 4) + numbers]
        return ["  " + name + " " * (label - cell_len(name)) + "  " + numbers]

    for line in wrap("Verdicts per trial (possibly: possibly eligible)", width):
        yield Text(line, style="bold")
    for line in row("trial", heads):
        yield Text(line, style="dim")
    for t in trials:
        v = summary.trials[t.trial.id].verdicts
        cells = (v["eligible"], v["possibly_eligible"], v["ineligible"], v["error"])
        for line in row(printable(t.trial.id, keep_newlines=False), tuple(map(_n, cells))):
            yield Text(line)


def _waterfall(summary: Summary, t: LoadedTrial, width: int) -> Iterator[Text]:
    tally = summary.trials[t.trial.id]
    total = summary.rows
    cols = _Columns(width, max(total, 1))
    trial_id = printable(t.trial.id, keep_newlines=False)
    for line in wrap(f"Attrition: {trial_id} (largest cut first)", width):
        yield Text(line, style="bold")
    for line in cols.row("criterion", *_Columns.HEADS):
        yield Text(line, style="dim")
    for line in cols.row("rows read", "", _n(total), percent(total, total), ""):
        yield Text(line)
    errors = tally.verdicts["error"]
    remain = total - errors
    if errors:
        cells = (_n(errors), _n(remain), percent(remain, total), "")
        for line in cols.row("could not be read", *cells):
            yield Text(line)
    for step in tally.waterfall([(kind, c.id) for kind, c in t.trial.criteria]):
        label = f"{step.kind[:3]} {printable(step.criterion_id, keep_newlines=False)}"
        cells = (_n(step.ruled_out), _n(step.remain), percent(step.remain, total), _n(step.unknown))
        for line in cols.row(label, *cells):
            yield Text(line)
    v = tally.verdicts
    tail = (
        f"remain: {_n(v['eligible'])} eligible, {_n(v['possibly_eligible'])} possibly eligible. "
        "Ruled out: inclusion not met or exclusion met; unknown: rows remaining that the "
        "criterion left unknown."
    )
    for line in wrap(tail, width, "  ", ""):
        yield Text(line, style="dim")


def _errors(summary: Summary, width: int) -> Iterator[Text]:
    labels = error_kinds()
    head = (
        f"Rows that could not be read: {_n(summary.error_rows)} (verdict error in the "
        "records; a row with several problems counts under each)"
    )
    for line in wrap(head, width, "", ""):
        yield Text(line, style="bold")
    ranked = sorted(summary.errors.items(), key=lambda kv: (-kv[1].rows, kv[0]))
    for key, kind in ranked:
        for line in wrap(_error_line(key, kind, labels), width, "  "):
            yield Text(line)


def _error_line(key: str, kind: ErrorKind, labels: dict[str, str]) -> str:
    """``column 'sex': value not allowed: 3 rows (rows 2, 5, 9)``."""
    name, _, column = key.partition("@")
    label = labels.get(name, name.replace("_", " "))
    if column:
        label = f"column {printable(repr(column), keep_newlines=False)}: {label}"
    shown = ", ".join(map(str, kind.first))
    more = ", …" if kind.rows > len(kind.first) else ""
    rows = "row" if kind.rows == 1 else "rows"
    which = f"row {shown}" if kind.rows == 1 else f"rows {shown}{more}"
    return f"{label}: {_n(kind.rows)} {rows} ({which})"


def build(summary: Summary, trials: list[LoadedTrial], console: Console) -> None:
    """Print the summary on ``console``, fitted to its width.

    >>> # build(summary, trials, Console(stderr=True))
    """
    for line in lines(summary, trials, console.width):
        console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=False)
