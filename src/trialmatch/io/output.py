"""Output files that appear whole or not at all, and never destroy what a user owns.

Before any work: ``--out`` onto a directory, into a missing or read-only directory, or onto one
of the inputs (by any path that resolves to it) is an :class:`InputError`. A regular file is
written to a temporary file beside it and renamed on success, keeping the permissions of the
file it replaces; a symbolic link is followed (the link stays a link); a device or FIFO
(``/dev/null``, a pipe) is written in place. An interrupted run (Ctrl-C or SIGTERM) removes its
temporary file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from trialmatch.errors import InputError

# Temporary files being written, for a signal handler to remove before the process exits
# (a handler must not raise: the signal may land inside a Polars call that would turn the
# exception into another one).
_PENDING: set[str] = set()


def remove_pending() -> int:
    """Remove every temporary output file still being written; returns how many."""
    removed = 0
    for tmp in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
            removed += 1
        _PENDING.discard(tmp)
    return removed


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_output(path: Path, inputs: Sequence[Path] = (), option: str = "--out") -> None:
    """Refuse an output path that cannot be written or would overwrite an input.

    >>> try:
    ...     check_output(Path("/no/such/dir/out.csv"))
    ... except InputError as exc:
    ...     print(exc.problems[0].message)
    cannot write here: the directory /no/such/dir does not exist
    """
    target = _resolved(path)
    for source in inputs:
        with contextlib.suppress(OSError):
            if target == _resolved(source) or (
                target.exists() and os.path.samefile(target, source)
            ):
                raise InputError.single(
                    str(path), f"{option} would overwrite the input {source}; choose another file"
                )
    if target.is_dir():
        raise InputError.single(str(path), f"is a directory; give a file name for {option}")
    if target.exists() and not target.is_file():
        return  # a device or FIFO: written in place
    directory = target.parent
    if not directory.is_dir():
        raise InputError.single(
            str(path), f"cannot write here: the directory {directory} does not exist"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError.single(
            str(path), f"cannot write here: the directory {directory} is not writable"
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError.single(str(path), "the file exists and is not writable")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing so that it appears whole or not at all.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_file(target) as fh:
    ...     _ = fh.write(b"done")
    >>> target.read_bytes()
    b'done'
    """
    target = _resolved(path)  # through a symlink: the link itself is kept
    if target.exists() and not target.is_file():
        with target.open("wb") as device:  # /dev/null, a FIFO: nothing to rename
            yield device
        return
    mode = _mode_for(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    _PENDING.add(tmp)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        _PENDING.discard(tmp)


def _mode_for(target: Path) -> int:
    """The permissions of the file being replaced, or the usual ones for a new file."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def is_terminal(path: Path) -> bool:
    """Whether an output path is a terminal (``/dev/tty``, ``/dev/stdout`` on a terminal):
    somewhere binary output must not go.

    >>> is_terminal(Path("/no/such/file.parquet"))
    False
    """
    target = _resolved(path)
    try:
        if not stat.S_ISCHR(target.stat().st_mode):
            return False
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)
