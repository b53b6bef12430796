"""Opening an input file: only a regular file, never blocking on a FIFO or a device."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from trialmatch.errors import InputError, file_error


def open_regular(path: Path | str, what: str = "a file") -> int:
    """A file descriptor for a regular file, opened without blocking; no such file, a
    directory, a FIFO, a device or a socket is an :class:`InputError` asking for ``what``.

    >>> open_regular("/dev/null", "a CSV")
    Traceback (most recent call last):
    trialmatch.errors.InputError: /dev/null: not a regular file (a character device); give a CSV
    """
    try:
        fd = os.open(str(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise file_error(path, exc) from None
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise file_error(path, exc) from None
    if stat.S_ISREG(info.st_mode):
        os.set_blocking(fd, True)
        return fd
    os.close(fd)
    if stat.S_ISDIR(info.st_mode):
        raise InputError.single(str(path), f"is a directory, expected {what}")
    raise InputError.single(
        str(path), f"not a regular file ({file_kind(info.st_mode)}); give {what}"
    )


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, by its mode."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"
