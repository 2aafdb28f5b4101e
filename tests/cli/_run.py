"""Running the ``fathom`` command line in-process for tests (one helper for every CLI test module)."""

from __future__ import annotations

import pytest

from fathom.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``fathom ARGS`` in-process: ``(exit code, stdout, stderr)``."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err
