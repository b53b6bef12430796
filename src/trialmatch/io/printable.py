"""Data shown on a terminal is text, never commands: control characters, terminal escape
sequences and bidirectional overrides in patient or criteria data are written as visible
escapes (``\\x1b``), and long values are quoted as short excerpts."""

from __future__ import annotations

# Unicode bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
_BIDI = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def printable(text: str, keep_newlines: bool = True) -> str:
    """``text`` with control characters (C0, DEL, C1) and bidi overrides written as escapes.

    >>> printable("P1\\x1b[31m red"), printable("a\\nb"), printable("a\\nb", keep_newlines=False)
    ('P1\\\\x1b[31m red', 'a\\nb', 'a\\\\x0ab')
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in _BIDI:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def excerpt(text: str, limit: int = 60) -> str:
    """A short, printable quotation of a value for a message (never a megabyte).

    >>> excerpt("x" * 100, 10)
    "'xxxxxxxxxx…' (100 characters)"
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}"[:-1] + f"…' ({len(text):,} characters)"
