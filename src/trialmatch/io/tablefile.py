"""Parquet and Arrow IPC input files: which extensions name them, and a first look at the
file (a regular file, its magic bytes at both ends) so that a wrong, empty or truncated file
is a clear :class:`InputError` before any reader sees it."""

from __future__ import annotations

import os
from pathlib import Path

from trialmatch.errors import InputError, file_error
from trialmatch.io.files import open_regular

PARQUET = "parquet"
IPC = "ipc"
# Extension -> format (case does not matter).
SUFFIXES = {".parquet": PARQUET, ".arrow": IPC, ".feather": IPC, ".ipc": IPC}
NAMES = {PARQUET: "Parquet", IPC: "Arrow IPC"}

_PAR1 = b"PAR1"
_PARE = b"PARE"  # an encrypted footer
_ARROW = b"ARROW1"
_STREAM = b"\xff\xff\xff\xff"  # an IPC stream's first message (no file magic)
_FEATHER1 = b"FEA1"


def table_format(path: Path) -> str | None:
    """The table format an input's extension names, or None (a CSV or NDJSON file).

    >>> table_format(Path("p.PARQUET")), table_format(Path("p.arrow")), table_format(Path("p.csv"))
    ('parquet', 'ipc', None)
    """
    return SUFFIXES.get(path.suffix.lower())


def check_table_file(path: Path, fmt: str) -> None:
    """Refuse what cannot be a ``fmt`` file: no such file, a directory, a FIFO or device, an
    empty file, another format, a file cut short (its footer magic missing)."""
    name = NAMES[fmt]
    a_file = f"{'an' if name[0] in 'AEIOU' else 'a'} {name} file"  # an Arrow IPC file
    fd = open_regular(path, a_file)
    try:
        info = os.fstat(fd)
        size = info.st_size
        head = os.pread(fd, 8, 0)
        tail = os.pread(fd, 8, max(0, size - 8)) if size >= 8 else head
    except OSError as exc:
        raise file_error(path, exc) from None
    finally:
        os.close(fd)
    if size == 0:
        raise InputError.single(str(path), f"the file is empty (expected {a_file})")
    problem = (_parquet_problem if fmt == PARQUET else _ipc_problem)(head, tail, size)
    if problem:
        raise InputError.single(str(path), problem)


def _other(head: bytes) -> str:
    """What a file's first bytes say it is, for a hint."""
    if head.startswith(_PAR1):
        return "; it is a Parquet file: name it .parquet"
    if head.startswith(_ARROW):
        return "; it is an Arrow IPC file: name it .arrow"
    if head.removeprefix(b"\xef\xbb\xbf").isascii() and b"," in head:
        return "; it looks like a CSV file: name it .csv"
    return ""


def _parquet_problem(head: bytes, tail: bytes, size: int) -> str | None:
    if not head.startswith(_PAR1):
        return "not a Parquet file (it does not start with PAR1)" + _other(head)
    if tail.endswith(_PARE):
        return "an encrypted Parquet file (encrypted footer), which screen cannot read"
    if size < 12 or not tail.endswith(_PAR1):
        return "the Parquet file is cut short (no footer at its end): was it copied whole?"
    return None


def _ipc_problem(head: bytes, tail: bytes, size: int) -> str | None:
    if head.startswith(_STREAM):
        return (
            "an Arrow IPC stream, not an Arrow IPC file; write it in the file format "
            "(Polars write_ipc, pyarrow.ipc.new_file) or as Parquet"
        )
    if head.startswith(_FEATHER1):
        return "a Feather version 1 file; save it as Feather version 2 (Arrow IPC) or Parquet"
    if not head.startswith(_ARROW):
        return "not an Arrow IPC file (it does not start with ARROW1)" + _other(head)
    if size < 12 or not tail.endswith(_ARROW):
        return "the Arrow IPC file is cut short (no footer at its end): was it copied whole?"
    return None
