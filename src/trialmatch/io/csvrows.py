"""The patients CSV as rows: one splitter for both screening engines.

The file is read in blocks of bytes, so memory follows the block, not the file. Rows end at a
newline outside quotes; a quote opens a quoted cell only at the start of a cell (as in the CSV
readers of Python and Polars). Both engines take their rows from here, so they see the same rows
with the same numbers, and the same rows are error records:

* a quote opened in a row and not closed within :data:`MAX_ROW_LINES` lines or
  :data:`MAX_ROW_BYTES` bytes (an unterminated quote): that row is an error and reading goes on
  at its next line, so no row after it is lost;
* a row longer than :data:`MAX_ROW_BYTES`, a carriage return not followed by a line feed (a
  lone CR), or bytes that are not UTF-8.

Blank lines are not rows and are not counted. The file must be a regular file (never a FIFO or
device); the header must be its first line, comma-separated, in UTF-8.
"""

from __future__ import annotations

import codecs
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trialmatch.errors import InputError
from trialmatch.io import files
from trialmatch.io.printable import excerpt

MAX_ROW_BYTES = 1 << 20  # 1 MiB; a cell is at most MAX_CELL_CHARS (checked by the parsers)
MAX_ROW_LINES = 50  # lines a quoted cell may span before its quote counts as unterminated
MAX_CELL_CHARS = 10_000

# Stable keys for the rows the splitter rejects (reports group error rows by them), with a
# short label each.
UNTERMINATED_QUOTE = "unterminated_quote"
LONE_CR = "lone_cr"
NOT_UTF8 = "not_utf8"
ROW_TOO_LONG = "row_too_long"
KINDS = {
    UNTERMINATED_QUOTE: "unterminated quote",
    LONE_CR: "carriage return (CR) inside a row",
    NOT_UTF8: "not UTF-8 text",
    ROW_TOO_LONG: "row longer than 1 MiB",
}

_FIELD_QUOTE = re.compile(rb'(?:^|,)"')  # a quote that opens a quoted cell
_CLOSING = re.compile(rb'(?:[^"]|"")*"(?!")')  # the rest of a quoted cell, to its closing quote
_LONE_CR = re.compile(rb"\r(?!\n)")
_BLANK = re.compile(rb"\n\r?\n")


@dataclass
class Block:
    """Rows of one block: the good ones (bytes, each ending with a newline) with their row
    numbers, and the rows that are errors: (row number, kind, message), ``kind`` a key of
    :data:`KINDS`. A block of plain one-line
    rows keeps them as one body (no copy per row) and splits it only when asked."""

    rows: list[bytes] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    plain: bytes | None = None  # one-line rows, all good: the body itself

    def body(self) -> bytes:
        """The good rows as one CSV body."""
        return self.plain if self.plain is not None else b"".join(self.rows)

    def row_list(self) -> list[bytes]:
        """The good rows one by one."""
        if self.plain is not None:
            return [line + b"\n" for line in self.plain.split(b"\n")[:-1]]
        return self.rows

    def __len__(self) -> int:
        return len(self.numbers)


def open_regular(path: Path) -> int:
    """A file descriptor for a regular file, opened without blocking (a FIFO, a device or a
    directory is an :class:`InputError`)."""
    return files.open_regular(path, "a CSV file")


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def header_text(line: bytes, path: Path) -> str:
    """The header line as text, or an :class:`InputError` saying what is wrong with it."""
    for bom, name in _WIDE_BOMS:
        if line.startswith(bom):
            raise InputError.single(
                str(path), f"the file is {name} text; save it as UTF-8 (CSV UTF-8)", 1
            )
    if line.startswith(codecs.BOM_UTF8):
        line = line[len(codecs.BOM_UTF8) :]
    if not line:
        raise InputError.single(str(path), "the file is empty (expected a header row)", 1)
    stripped = line.rstrip(b"\n")
    if stripped.endswith(b"\r"):
        stripped = stripped[:-1]
    if b"\r" in stripped:
        raise InputError.single(
            str(path),
            "the file has carriage-return-only line endings (old Mac); save it with LF or CRLF "
            "line endings",
            1,
        )
    if not stripped.strip():
        raise InputError.single(
            str(path), "line 1 is blank: the header must be the first line of the file", 1
        )
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(
            str(path), f"the header is not UTF-8 text (byte {exc.start})", 1
        ) from None
    if "," not in text:
        for sep, name in ((";", "semicolon"), ("\t", "tab")):
            if sep in text:
                raise InputError.single(
                    str(path),
                    f"the file looks {name}-separated (no comma in the header); trialmatch "
                    "reads comma-separated files: save it as CSV (comma delimited)",
                    1,
                )
    return text


def read_header(path: Path) -> tuple[str, int]:
    """(header text, byte offset of the first data row)."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        line = fh.readline(MAX_ROW_BYTES + 1)
        if len(line) > MAX_ROW_BYTES:
            raise InputError.single(
                str(path), f"the header is longer than {MAX_ROW_BYTES:,} bytes", 1
            )
        return header_text(line, path), len(line)


def blocks(path: Path, block_bytes: int = 20 << 20) -> Iterator[Block]:
    """The data rows of a CSV file, a block of about ``block_bytes`` at a time.

    >>> # for block in blocks(Path("patients.csv")): block.rows, block.numbers, block.errors
    """
    _, offset = read_header(path)
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        fh.seek(offset)
        splitter = _Splitter()
        carry = b""
        while True:
            data = fh.read(max(1, block_bytes))
            if not data:
                break
            buf = carry + data
            cut = buf.rfind(b"\n")
            if cut < 0:
                carry = buf
                if len(carry) > MAX_ROW_BYTES:  # one line longer than any row may be
                    carry = splitter.overlong(carry, fh)
                continue
            carry = buf[cut + 1 :]
            text = buf[: cut + 1]
            del buf, data  # the block is all that stays alive while it is screened
            block = splitter.feed(text)
            del text
            if len(block) or block.errors:
                yield block
        block = splitter.finish(carry)
        if len(block) or block.errors:
            yield block


def _has_overlong_line(text: bytes) -> bool:
    """Whether a line of ``text`` is longer than :data:`MAX_ROW_BYTES` (a hop per row limit,
    so linear and without splitting the text)."""
    size, start = len(text), 0
    while size - start > MAX_ROW_BYTES:
        cut = text.rfind(b"\n", start, start + MAX_ROW_BYTES)  # a row counts its newline
        if cut < 0:
            return True
        start = cut + 1
    return False


def _is_utf8(text: bytes) -> bool:
    if text.isascii():
        return True
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _Splitter:
    """Turns whole lines into rows, keeping a row whose quoted cell is still open."""

    def __init__(self) -> None:
        self.number = 0
        self.open_lines: list[bytes] = []  # the lines of a row still inside a quoted cell
        self.open_number = 0
        self.open_bytes = 0
        self.pending = Block()  # errors found between blocks (an overlong line)
        self.again: list[bytes] = []  # lines to read again as rows of their own

    def overlong(self, carry: bytes, fh: object) -> bytes:
        """A line longer than :data:`MAX_ROW_BYTES` without a newline yet: skip to its end and
        make it an error row; return what follows it."""
        read = fh.read  # type: ignore[attr-defined]
        size = len(carry)
        rest = b""
        while True:
            chunk = read(1 << 20)
            if not chunk:
                break
            cut = chunk.find(b"\n")
            if cut >= 0:
                size += cut
                rest = chunk[cut + 1 :]
                break
            size += len(chunk)
        if self.open_lines:  # the open row's quote was never closed
            self.again += self._unterminated(self.pending)
        self.number += 1
        self.pending.errors.append((self.number, ROW_TOO_LONG, _too_long(size)))
        return rest

    def _take_pending(self, block: Block) -> None:
        block.errors += self.pending.errors
        self.pending = Block()

    def feed(self, text: bytes) -> Block:
        """Rows from whole lines (``text`` ends with a newline)."""
        block = Block()
        self._take_pending(block)
        if self.again:
            text = b"\n".join(self.again) + b"\n" + text
            self.again = []
        plain = (
            not self.open_lines
            and b'"' not in text
            and text.count(b"\r") == text.count(b"\r\n")
        )
        if plain and not _BLANK.search(text) and not text.startswith((b"\n", b"\r\n")):
            # Fastest path: every line is a row; keep the block as it is unless a row is bad.
            count = text.count(b"\n")
            if not _has_overlong_line(text) and _is_utf8(text):
                block.plain = text
                block.numbers = list(range(self.number + 1, self.number + count + 1))
                self.number += count
                return block
        if plain:
            # Fast path: no quotes and no lone CR: every non-blank line is a row.
            for line in text.split(b"\n")[:-1]:
                if line and line != b"\r":
                    self.number += 1
                    self._emit(block, self.number, line + b"\n")
            return self._utf8(block)
        lines: deque[bytes] = deque(text.split(b"\n")[:-1])
        while lines:
            line = lines.popleft()
            if not self.open_lines:
                if not line.strip(b"\r"):
                    continue  # a blank line is not a row
                self.number += 1
                self.open_number = self.number
                self.open_lines = [line]
                self.open_bytes = len(line)
                inside = _ends_inside(line, False)
            else:
                self.open_lines.append(line)
                self.open_bytes += len(line) + 1
                inside = _ends_inside(line, True)
            if not inside:
                self._emit(block, self.open_number, b"\n".join(self.open_lines) + b"\n")
                self.open_lines = []
            elif len(self.open_lines) > MAX_ROW_LINES or self.open_bytes > MAX_ROW_BYTES:
                lines.extendleft(reversed(self._unterminated(block)))
        return self._utf8(block)

    def finish(self, carry: bytes) -> Block:
        """The last line (without a final newline) and a row still open at the end."""
        block = self.feed(carry + b"\n") if carry or self.again else Block()
        self._take_pending(block)
        while self.open_lines:  # end of file inside a quoted cell
            rest = self._unterminated(block)
            if rest:
                more = self.feed(b"\n".join(rest) + b"\n")
                if block.plain is not None:
                    block.rows, block.plain = block.row_list(), None
                block.rows += more.row_list()
                block.numbers += more.numbers
                block.errors += more.errors
        return block

    def _unterminated(self, block: Block) -> list[bytes]:
        """Make the open row's first line an error; return its other lines, to be read again
        as rows of their own."""
        block.errors.append(
            (
                self.open_number,
                UNTERMINATED_QUOTE,
                'a quote (") opened in this row is not closed: an unterminated quote '
                f"(reading goes on at the next line; a quoted cell may span at most "
                f"{MAX_ROW_LINES} lines)",
            )
        )
        rest = self.open_lines[1:]
        self.number = self.open_number  # the following lines are the next rows
        self.open_lines = []
        return rest

    def _emit(self, block: Block, number: int, row: bytes) -> None:
        if len(row) > MAX_ROW_BYTES:
            block.errors.append((number, ROW_TOO_LONG, _too_long(len(row))))
        elif b"\r" in row and _LONE_CR.search(row):
            block.errors.append(
                (
                    number,
                    LONE_CR,
                    "a carriage return (CR) not followed by a line feed is inside this row; "
                    "remove it (or save the file with LF or CRLF line endings)",
                )
            )
        else:
            block.rows.append(row)
            block.numbers.append(number)

    def _utf8(self, block: Block) -> Block:
        try:
            block.body().decode("utf-8")
        except UnicodeDecodeError:
            rows, numbers = [], []
            for row, number in zip(block.rows, block.numbers, strict=True):
                try:
                    row.decode("utf-8")
                except UnicodeDecodeError as exc:
                    near = row[max(0, exc.start - 20) : exc.start + 1].decode("utf-8", "replace")
                    after = excerpt(near, 40)
                    message = f"not UTF-8 text (byte {exc.start} of the row, after {after})"
                    block.errors.append((number, NOT_UTF8, message))
                    continue
                rows.append(row)
                numbers.append(number)
            block.rows, block.numbers = rows, numbers
        return block


def _too_long(size: int) -> str:
    return f"the row is {size:,} bytes; a row may be at most {MAX_ROW_BYTES:,} bytes"


def _ends_inside(line: bytes, inside: bool) -> bool:
    """Whether a line ends inside a quoted cell, given whether it starts inside one."""
    pos = 0
    n = len(line)
    while True:
        if inside:
            closing = _CLOSING.match(line, pos)
            if closing is None:
                return True
            pos = closing.end()
            inside = False
        opening = _FIELD_QUOTE.search(line, pos)
        if opening is None:
            return False
        pos = opening.end()
        if pos > n:
            return True
        inside = True
