"""Statistics over an archive of model runs, in parallel with Dask.

Covers :func:`compute_stats_many`: one :func:`compute_stats` task per run, run on

* ``scheduler=None`` (default): a local ``dask.distributed`` cluster of ``workers`` processes
  with one thread each, started for the call and closed after it;
* ``scheduler="tcp://HOST:PORT"`` (any address): an existing distributed scheduler;
* ``scheduler="processes" | "threads" | "synchronous"``: Dask's local schedulers (no cluster;
  ``synchronous`` runs in this process, for debugging and tests). With ``threads``, tasks read
  their files one at a time (the reader's ``NETCDF_LOCK``) and compute in parallel.

Each worker process grids the areas once and reuses the cached labels for every later run on the
same grid. With ``out_dir``, each finished run is written at once to ``out_dir/<run>.json``
(atomically), and runs whose file is already there are read back instead of recomputed, so an
interrupted archive resumes where it stopped. A rich progress bar counts finished runs.

Not covered: splitting one run across workers (a run at 0.1 deg takes about a second), chunked
out-of-core arrays.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fathom._manifest import atomic_write_text
from fathom.domains.shipping.reader import ShippingDataError, run_files
from fathom.domains.shipping.stats._compute import SCHEMA, StatsOptions, compute_stats
from fathom.domains.shipping.stats._json import stats_json

__all__ = ["compute_stats_many", "find_runs", "run_name"]

_LOCAL = ("processes", "threads", "synchronous", "sync", "single-threaded")


def find_runs(paths: Sequence[str | os.PathLike[str]]) -> list[list[Path]]:
    """Group command-line paths into runs, each a list of NetCDF files.

    A folder with ``*.nc`` files is one run; a folder without any is an archive whose sub-folders
    holding ``*.nc`` are the runs (sorted); files given directly together form one run
    (e.g. ``atmosphere.nc wave.nc``).

    Raises:
        ShippingDataError: a path is missing, or a folder holds no run.
    """
    runs: list[list[Path]] = []
    loose: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            if any(item.glob("*.nc")):
                runs.append(run_files(item))
                continue
            subs = sorted(d for d in item.iterdir() if d.is_dir() and any(d.glob("*.nc")))
            if not subs:
                raise ShippingDataError(f"{item} holds no *.nc files and no run folders with them "
                                        f"(expected e.g. {item}/20250101T00Z/atmosphere.nc).")
            runs.extend(run_files(d) for d in subs)
        else:
            loose.extend(run_files(item))
    if loose:
        runs.insert(0, loose)
    return runs


def run_name(files: Sequence[Path]) -> str:
    """A run's name: its folder's name when the run is a whole folder, else the first file's stem."""
    parents = {f.parent for f in files}
    if len(parents) == 1:
        folder = parents.pop()
        if sorted(folder.glob("*.nc")) == sorted(files):
            return folder.name
    return files[0].stem


def compute_stats_many(runs: Sequence[Any], *, scheduler: str | None = None, workers: int = 2,
                       out_dir: str | os.PathLike[str] | None = None, options: StatsOptions | None = None,
                       errors: str = "raise", progress: bool = True, **open_kwargs: Any) -> list[dict[str, Any]]:
    """:func:`compute_stats` for many runs in parallel; results in the order of ``runs``.

    Args:
        runs: run sources (folders, files, lists of files), as :func:`compute_stats` accepts.
        scheduler: None (local cluster), a distributed scheduler address, or ``"processes"``,
            ``"threads"``, ``"synchronous"``.
        workers: processes of the local cluster or pool (default 2).
        out_dir: when given, write ``<run>.json`` per finished run and skip runs already written.
        options: thresholds, see :class:`StatsOptions`.
        errors: ``"raise"`` (after every run has finished, naming each failed run) or ``"keep"``
            (a failed run's entry is ``{"schema", "error", "sources"}``).
        progress: show a rich progress bar.
        **open_kwargs: passed to :func:`open_run`.

    Raises:
        ShippingDataError: bad arguments, or (``errors="raise"``) runs that failed.
    """
    if errors not in ("raise", "keep"):
        raise ShippingDataError(f"errors must be 'raise' or 'keep', got {errors!r}.")
    if workers < 1:
        raise ShippingDataError(f"workers must be >= 1, got {workers}.")
    names = _unique_names(runs)
    out = Path(out_dir) if out_dir is not None else None
    results: list[dict[str, Any] | None] = [None] * len(runs)
    todo = []
    for i, name in enumerate(names):
        saved = out / f"{name}.json" if out else None
        if saved is not None and saved.exists():
            results[i] = json.loads(saved.read_text("utf-8"))
        else:
            todo.append(i)
    opts = options or StatsOptions()

    def finish(i: int, result: dict[str, Any]) -> None:
        results[i] = result
        if out is not None and "error" not in result:
            atomic_write_text(out / f"{names[i]}.json", stats_json(result))

    with _progress(progress, len(runs), len(runs) - len(todo)) as advance:

        def done(k: int, result: dict[str, Any]) -> None:
            finish(todo[k], result)
            advance()

        if todo:
            _dispatch([runs[i] for i in todo], scheduler, workers, opts, open_kwargs, done)
    failed = [(names[i], r["error"]) for i, r in enumerate(results) if r is not None and "error" in r]
    if failed and errors == "raise":
        lines = "\n".join(f"  {n}: {e}" for n, e in failed)
        raise ShippingDataError(f"{len(failed)} of {len(runs)} runs failed:\n{lines}")
    return [r for r in results if r is not None]


def _unique_names(runs: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for k, run in enumerate(runs):
        try:
            base = run_name(run_files(run))
        except (ShippingDataError, TypeError):
            base = f"run{k:04d}"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return names


def _one(run: Any, options: StatsOptions, open_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Worker task: stats of one run, or an error entry (never raises a FathomError).

    Everything inside runs on dask's synchronous scheduler, in the task's own thread: a nested
    compute must not be sent back to the cluster with the run's open HDF5 files.
    """
    import dask

    from fathom.errors import FathomError

    try:
        with dask.config.set(scheduler="synchronous"):
            return compute_stats(run, options=options, **open_kwargs)
    except (FathomError, OSError) as exc:
        return {"schema": SCHEMA, "error": str(exc), "sources": [str(p) for p in _as_list(run)]}


def _as_list(run: Any) -> list[Any]:
    return list(run) if isinstance(run, (list, tuple)) else [run]


def _dispatch(runs: list[Any], scheduler: str | None, workers: int, options: StatsOptions,
              open_kwargs: dict[str, Any], done: Callable[[int, dict[str, Any]], Any]) -> None:
    """Run ``_one`` for every run on the chosen scheduler, calling ``done(k, result)`` as each ends."""
    if scheduler in _LOCAL:
        _dispatch_local(runs, scheduler, workers, options, open_kwargs, done)
        return
    from distributed import Client, LocalCluster, as_completed

    if scheduler is None:
        # Worker logs below CRITICAL are silenced: failed runs come back as results, and the
        # heartbeat noise of a cluster shutting down on a busy machine is not worth printing.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL)
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ShippingDataError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}). Start one "
                                    f"with `dask scheduler` (and `dask worker ADDRESS`), or leave "
                                    f"--scheduler out to use a local cluster.") from exc
    try:
        futures = [client.submit(_one, run, options, open_kwargs, pure=False) for run in runs]
        index = {f.key: k for k, f in enumerate(futures)}
        for future in as_completed(futures):
            done(index[future.key], future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dispatch_local(runs: list[Any], scheduler: str, workers: int, options: StatsOptions,
                    open_kwargs: dict[str, Any], done: Callable[[int, dict[str, Any]], Any]) -> None:
    from dask.base import compute
    from dask.callbacks import Callback
    from dask.delayed import delayed

    tasks = [delayed(_one, pure=False)(run, options, open_kwargs, dask_key_name=f"run-{k}")
             for k, run in enumerate(runs)]

    def report(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(key, str) and key.startswith("run-"):
            done(int(key[4:]), result)

    kwargs: dict[str, Any] = {"scheduler": scheduler}
    if scheduler in ("processes", "threads"):
        kwargs["num_workers"] = workers
    with Callback(posttask=report):
        compute(*tasks, **kwargs)


class _progress:
    """A rich progress bar over runs (or nothing), yielding ``advance()``."""

    def __init__(self, show: bool, total: int, already: int) -> None:
        self.show, self.total, self.already = show, total, already

    def __enter__(self) -> Callable[[], None]:
        if not self.show:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("sea-area stats"), BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), transient=False)
        self._bar.start()
        task = self._bar.add_task("runs", total=self.total, completed=self.already)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self._bar.stop()
