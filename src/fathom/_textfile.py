"""Reading text files as UTF-8 with a precise error for anything else (a binary file, Latin-1 text).

Covers: :func:`read_utf8` (a whole file) and :func:`decode_utf8` (bytes already read); both raise
:class:`~fathom.errors.DataError` naming the file, the byte offset, its line and column, and the
byte that does not decode. Not covered: parsing what the text holds (JSON Lines, YAML, bulletins).
"""

from __future__ import annotations

import os
from pathlib import Path

from fathom.errors import DataError, Problem

__all__ = ["decode_utf8", "read_utf8"]


def read_utf8(path: str | os.PathLike[str]) -> str:
    """The text of a UTF-8 file.

    Raises:
        DataError: the file is not UTF-8 text (names the offset and the byte).
        FileNotFoundError: the file does not exist.
    """
    return decode_utf8(Path(path).read_bytes(), str(path))


def decode_utf8(data: bytes, where: str) -> str:
    """``data`` decoded as UTF-8; ``where`` (usually the file name) heads the error.

    >>> decode_utf8(b"ok", "f.txt")
    'ok'
    >>> try:
    ...     decode_utf8(b'{"a": 1}\\n\\xff', "f.jsonl")
    ... except DataError as exc:
    ...     print(exc.problems[0])
    f.jsonl:2: byte 0xff at byte offset 9 (line 2, column 1) is not UTF-8 (invalid start byte); expected UTF-8 text, \
re-save it as UTF-8 (is it in another encoding?)
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError([not_utf8_problem(data, exc, where)], title=f"{where} is not UTF-8 text") from None


def not_utf8_problem(data: bytes, exc: UnicodeDecodeError, where: str) -> Problem:
    """The :class:`Problem` for bytes that do not decode: where, which byte, and what to do."""
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    binary = b"\x00" in data[:8192]
    hint = "it looks like a binary file" if binary else "re-save it as UTF-8 (is it in another encoding?)"
    return Problem(f"{where}:{line}", f"byte 0x{data[exc.start]:02x} at byte offset {exc.start} (line {line}, "
                                      f"column {column}) is not UTF-8 ({exc.reason}); expected UTF-8 text, {hint}")
