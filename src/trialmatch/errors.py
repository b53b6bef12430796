"""User-input errors as data: every problem carries its file, line, column and what is allowed.

Only the CLI turns these into a message and exit code 2; the library just raises them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


def location(file: str, line: int | None, column: int | None) -> str:
    """``file:line:column`` with the parts that are known.

    >>> location("p.yaml", 3, None), location("p.yaml", None, 4)
    ('p.yaml:3', 'p.yaml')
    """
    parts = [file]
    if line is not None:
        parts.append(str(line))
        if column is not None:
            parts.append(str(column))
    return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """One problem in an input file.

    >>> str(Problem("criteria/x.yaml", 14, 7, "unknown predicate 'labs'", allowed=("lab",)))
    "criteria/x.yaml:14:7: unknown predicate 'labs' (allowed: lab)"
    """

    file: str
    line: int | None
    column: int | None
    message: str
    allowed: tuple[str, ...] = field(default=())

    def location(self) -> str:
        """``file:line:column`` with the parts that are known."""
        return location(self.file, self.line, self.column)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.allowed:
            shown = ", ".join(self.allowed[:40])
            more = f", … ({len(self.allowed) - 40} more)" if len(self.allowed) > 40 else ""
            text += f" (allowed: {shown}{more})"
        return text


def file_error(path: object, exc: BaseException) -> InputError:
    """The :class:`InputError` for a file that cannot be read as UTF-8 text.

    >>> str(file_error("p.yaml", FileNotFoundError()))
    'p.yaml: no such file'
    """
    if isinstance(exc, FileNotFoundError):
        message = "no such file"
    elif isinstance(exc, IsADirectoryError):
        message = "is a directory, expected a file"
    elif isinstance(exc, UnicodeDecodeError):
        message = f"not UTF-8 text (byte {exc.start})"
    elif isinstance(exc, OSError):
        message = f"cannot read file: {exc.strerror or exc}"
    else:
        message = str(exc)
    return InputError.single(str(path), message)


class InputError(Exception):
    """Bad user input: one or more problems, all reported at once.

    >>> err = InputError([Problem("p.yaml", 3, 1, "unknown field 'sexx'")])
    >>> str(err)
    "p.yaml:3:1: unknown field 'sexx'"
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        file: str,
        message: str,
        line: int | None = None,
        column: int | None = None,
        allowed: Sequence[str] = (),
    ) -> InputError:
        """An error with exactly one problem."""
        return cls([Problem(file, line, column, message, tuple(allowed))])
