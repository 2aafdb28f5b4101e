"""A rich progress bar for long generation runs, shared by the backends.

Not covered: progress for anything other than counting finished requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(enabled: bool, total: int, label: str) -> Iterator[Callable[[int], None]]:
    """Show a bar on stderr counting ``total`` requests; yields ``advance(n)``.

    When ``enabled`` is false nothing is shown and ``advance`` does nothing.
    """
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:
        task = progress.add_task(f"Generating with {label}", total=total)
        yield lambda n: progress.advance(task, n)
