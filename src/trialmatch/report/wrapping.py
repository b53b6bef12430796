"""Plain-text layout for the terminal: one item per line, long text wrapped with a hanging
indent (the way ruff or pytest print a finding), ids never split."""

from __future__ import annotations

import shutil
import textwrap

from trialmatch.io.printable import printable


def terminal_width(default: int = 80) -> int:
    """The terminal's width (``COLUMNS`` when set), or ``default`` when not a terminal.

    >>> terminal_width() > 0
    True
    """
    return max(shutil.get_terminal_size((default, 24)).columns, 40)


def hanging(first: str, text: str, width: int, indent: int | None = None) -> list[str]:
    """``first`` followed by ``text``, wrapped to ``width``; continuation lines start under
    the text (or at column ``indent``). Data is made printable first; a word longer than the
    line is split only when it must be (ids come first on their line and are never split).

    >>> hanging("  note: ", "one two three four", 16)
    ['  note: one two', '        three', '        four']
    """
    hang = len(first) if indent is None else indent
    lines = textwrap.wrap(
        printable(" ".join(text.split()), keep_newlines=False),
        width=width,
        initial_indent=first,
        subsequent_indent=" " * hang,
        break_on_hyphens=False,
    )
    return lines or [first.rstrip()]
