"""Every exception Fathom raises on purpose, in one hierarchy.

::

    FathomError
    ├── ConfigError            a recipe or argument set is invalid (lists every problem)
    ├── MissingDependencyError an optional extra is not installed (names the pip command)
    ├── ModelError
    │   └── UnknownModelError  a model spec names nothing we can load (did-you-mean)
    ├── DataError              a data file is malformed (lists every problem with line and field)
    ├── OutputError            an output file or folder cannot be written (names the path and why)
    ├── BackendError           a generation backend failed (HTTP errors after retries, ...)
    ├── GraderError
    │   └── UnknownGraderError
    ├── TrainingError
    └── DomainError            raised by domain plug-ins (e.g. the Shipping Forecast)

    FathomWarning              something was skipped or looks wrong, and work went on
    └── CacheWarning           unreadable lines of a completion cache (counted, then regenerated)

Messages say what was received, what is valid and what to do next. Catch ``FathomError`` to
handle all of them; the CLI prints the message and exits non-zero (2 for bad input).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BackendError",
    "CacheWarning",
    "ConfigError",
    "DataError",
    "DomainError",
    "FathomError",
    "FathomWarning",
    "GraderError",
    "MissingDependencyError",
    "ModelError",
    "OutputError",
    "Problem",
    "TrainingError",
    "UnknownGraderError",
    "UnknownModelError",
    "did_you_mean",
]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"Did you mean 'x'?"`` for the closest choice, or ``""``.

    >>> did_you_mean("smolm2-135m", ["smollm2-135m", "gpt2"])
    "Did you mean 'smollm2-135m'?"
    >>> did_you_mean("zzz", ["abc"])
    ''
    """
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"Did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (file line, key path) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class FathomWarning(UserWarning):
    """Warnings Fathom emits (tests turn them into errors)."""


class CacheWarning(FathomWarning):
    """Lines of a cache file could not be read; they are counted, and their work is done again."""


class FathomError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class _ProblemsError(FathomError):
    """An error that carries a list of problems and prints one per line."""

    exit_code = 2
    title = "problems"

    def __init__(self, problems: list[Problem] | list[str], title: str | None = None):
        self.problems = [p if isinstance(p, Problem) else Problem("", str(p)) for p in problems]
        self.title = title or self.title
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{self.title} ({len(self.problems)}):\n{lines}")


class ConfigError(_ProblemsError):
    """Invalid configuration; every problem found is listed."""

    title = "invalid configuration"


class DataError(_ProblemsError):
    """Malformed data; every problem found is listed with its line and field path."""

    title = "invalid data"


class OutputError(FathomError):
    """An output path cannot be written: its folder is missing or a file, or it is not writable."""

    exit_code = 2


class MissingDependencyError(FathomError):
    """An optional dependency is missing. The message names the install command."""

    exit_code = 2

    def __init__(self, what: str, install: str):
        self.install = install
        super().__init__(f"{what} is not installed. Install it with: {install}")


class ModelError(FathomError):
    """A model could not be resolved or loaded."""


class UnknownModelError(ModelError):
    exit_code = 2


class BackendError(FathomError):
    """A generation backend failed."""


class GraderError(FathomError):
    """A grader was misconfigured or misused."""


class UnknownGraderError(GraderError):
    exit_code = 2


class TrainingError(FathomError):
    """Training could not start or continue."""


class DomainError(FathomError):
    """Raised by domain plug-ins; subclass it in the domain."""

    exit_code = 2
