"""Benchmark: NetCDF model output -> Shipping Forecast sea-area statistics.

Run:  .venv/bin/python benchmarks/shipping_stats.py            (about 3-6 minutes on 2 cores)
      .venv/bin/python benchmarks/shipping_stats.py --runs 12   (a quick try)
      .venv/bin/python benchmarks/shipping_stats.py --whole-process   (part 4 only, about 1-2 minutes)

What it measures and prints (no assertions; the numbers are whatever this machine gives):

1. One 24-hour hourly run (T+0..T+24) at 0.1 deg over the 31 sea areas, written as NetCDF by the
   synthetic generator (``write_runs``). With the process pinned to one CPU (like ``taskset -c 0``)
   and one thread: open (lazy), load, gridding the areas (first call only; cached afterwards) and
   ``compute_stats`` for all 31 areas, every step and the three periods. Wall and CPU seconds,
   best of ``--repeats``.
2. The naive baseline on the same loaded data: a plain xarray loop of ``where(mask).mean()`` per
   area, per time step and per variable (8 variables), plus one per area, period and variable.
   It is timed on a subset of areas and steps and extrapolated linearly to all 31 areas and 25
   steps (printed as such). It computes only means, far less than the vectorised path (which also
   gives percentiles, histograms, directions, ...), so the ratio understates the speed-up.
3. Dask throughput: ``--runs`` runs (default 90: 45 days x 00Z/12Z) at ``--dask-resolution``
   (default 0.25 deg) through ``compute_stats_many`` on a local cluster of ``--workers`` (2)
   processes; runs per minute, and the same for a few runs one after another in one process.
4. ``--whole-process`` (instead of 1-3): the same 0.1 deg run as two fresh processes, each pinned to
   the same CPU with one thread, so start-up, imports, reading the files and writing the result all
   count: ``fathom shipping stats RUN --out FILE`` against the plain xarray loop of part 2 run in
   full (every area, step and variable, and the three periods; open, load, masks and a JSON file
   of the means included, nothing extrapolated). Wall and CPU seconds of each, best of
   ``--repeats``, and the ratio.

Data goes to ``--data`` (default: a temporary folder, removed at the end); generated runs are
kept there and reused on the next call with the same ``--data``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402


def make_runs(folder: Path, days: int, resolution: float, runs_per_day: int) -> list[Path]:
    """Synthetic runs from the package's generator (resumable: existing runs are kept)."""
    from fathom.domains.shipping import write_runs

    return write_runs(datetime(2025, 1, 5), days, folder, seed=7, resolution=resolution,
                      runs_per_day=runs_per_day, progress=True)


def best(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(best wall seconds, CPU seconds of that call, last result) over ``repeats`` calls."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    k = int(np.argmin(walls))
    return walls[k], cpus[k], out


def single_run(run: Path, repeats: int) -> tuple[float, tuple[Any, Any]]:
    from fathom.domains.shipping import area_labels, compute_stats, open_run

    def opened() -> None:
        open_run(run).close()

    def loaded_run() -> Any:
        with open_run(run) as ds:
            return ds.load()

    w_open, c_open, _ = best(opened, repeats)
    w_load, c_load, loaded = best(loaded_run, repeats)
    lat, lon = loaded["lat"].values, loaded["lon"].values
    print(f"grid: {lat.size} x {lon.size} cells at {abs(lat[1] - lat[0]):g} deg, {loaded.sizes['time']} steps, "
          f"{len(loaded.data_vars)} variables")
    c0, w0 = time.process_time(), time.perf_counter()
    area_labels(lat, lon, loaded["lsm"].values)
    w_grid, c_grid = time.perf_counter() - w0, time.process_time() - c0
    w_stats, c_stats, stats = best(lambda: compute_stats(loaded), repeats)
    w_e2e, c_e2e, _ = best(lambda: compute_stats(run), repeats)
    print(f"open (lazy) and close            {w_open:7.3f} s wall  {c_open:7.3f} s CPU")
    print(f"load into memory                 {w_load:7.3f} s wall  {c_load:7.3f} s CPU")
    print(f"grid the 31 areas (first time)   {w_grid:7.3f} s wall  {c_grid:7.3f} s CPU  (cached per grid)")
    print(f"stats, all 31 areas (in memory)  {w_stats:7.3f} s wall  {c_stats:7.3f} s CPU  <- excludes file open")
    print(f"NetCDF -> stats (open+read+stats){w_e2e:7.3f} s wall  {c_e2e:7.3f} s CPU  (areas already gridded)")
    return w_stats, (loaded, stats)


def naive(loaded: Any, areas: int, steps: int) -> float:
    """Seconds a plain xarray where(mask).mean() loop would take for all areas, steps and periods."""
    import xarray as xr

    from fathom.domains.shipping import area_masks

    masks = area_masks(loaded["lat"].values, loaded["lon"].values, loaded["lsm"].values)
    names = list(masks)
    pick = names[:: max(1, len(names) // areas)][:areas]
    variables = [v for v in loaded.data_vars if "time" in loaded[v].dims]
    n_steps = loaded.sizes["time"]
    t_step, n_step = 0.0, 0
    t_period, n_period = 0.0, 0
    for name in pick:
        mask = xr.DataArray(masks[name], dims=("lat", "lon"))
        for t in range(min(steps, n_steps)):
            for v in variables:
                w0 = time.perf_counter()
                float(loaded[v].isel(time=t).where(mask).mean())
                t_step += time.perf_counter() - w0
                n_step += 1
        for v in variables:  # one period: the first 12 hours
            w0 = time.perf_counter()
            float(loaded[v].isel(time=slice(0, 12)).where(mask).mean())
            t_period += time.perf_counter() - w0
            n_period += 1
    per_step, per_period = t_step / n_step, t_period / n_period
    total_areas = len(names)
    full = per_step * total_areas * n_steps * len(variables) + per_period * total_areas * 3 * len(variables)
    print(f"naive loop measured on {len(pick)} areas x {min(steps, n_steps)} steps x {len(variables)} variables "
          f"({n_step} calls, {per_step * 1e3:.2f} ms each) + {n_period} period calls ({per_period * 1e3:.2f} ms each)")
    print(f"naive loop extrapolated to {total_areas} areas x {n_steps} steps x {len(variables)} variables "
          f"+ 3 periods: {full:.2f} s (means only)")
    return full


def plain_loop(run: Path, out: Path) -> None:
    """The plain xarray loop in full, as a process of its own would run it (``--plain-loop``)."""
    import json

    import xarray as xr

    from fathom.domains.shipping import area_masks, open_run

    with open_run(run, chunks=False) as ds:  # read as `shipping stats` reads: the same files, no dask
        loaded = ds.load()
    masks = area_masks(loaded["lat"].values, loaded["lon"].values, loaded["lsm"].values)
    variables = [v for v in loaded.data_vars if "time" in loaded[v].dims]
    n_steps = loaded.sizes["time"]
    periods = {"all": slice(None), "first": slice(0, 12), "second": slice(12, None)}
    result = {}
    for name, m in masks.items():
        mask = xr.DataArray(m, dims=("lat", "lon"))
        steps = [{v: float(loaded[v].isel(time=t).where(mask).mean()) for v in variables} for t in range(n_steps)]
        whole = {p: {v: float(loaded[v].isel(time=sl).where(mask).mean()) for v in variables}
                 for p, sl in periods.items()}
        result[name] = {"steps": steps, "periods": whole}
    out.write_text(json.dumps(result) + "\n")


def _timed_process(cmd: list[str], repeats: int) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that run) of ``cmd`` as a fresh process."""
    import resource
    import subprocess

    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - w0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    k = int(np.argmin(walls))
    return walls[k], cpus[k]


def whole_process(run: Path, out: Path, repeats: int) -> None:
    """``fathom shipping stats`` and the plain loop as whole processes on the same files."""
    import sys

    script = Path(sys.executable).with_name("fathom")
    fathom = [str(script)] if script.exists() else [sys.executable, "-c", "from fathom.cli import main; main()"]
    w_stats, c_stats = _timed_process([*fathom, "shipping", "stats", str(run), "--out", str(out / "stats.json")],
                                      repeats)
    print(f"fathom shipping stats (whole process)  {w_stats:7.2f} s wall  {c_stats:7.2f} s CPU")
    w_loop, c_loop = _timed_process([sys.executable, __file__, "--plain-loop", str(run), str(out / "loop.json")],
                                    repeats)
    print(f"plain xarray loop (whole process)      {w_loop:7.2f} s wall  {c_loop:7.2f} s CPU  (means only)")
    print(f"speed-up of the whole process over the plain loop: {w_loop / w_stats:.1f}x wall, "
          f"{c_loop / c_stats:.1f}x CPU")


def throughput(root: Path, n_runs: int, resolution: float, workers: int) -> None:
    from fathom.domains.shipping import compute_stats_many

    days = (n_runs + 1) // 2
    w0 = time.perf_counter()
    runs = make_runs(root, days, resolution, 2)[:n_runs]
    print(f"{len(runs)} runs at {resolution:g} deg ready in {time.perf_counter() - w0:.1f} s "
          f"({sum(f.stat().st_size for r in runs for f in r.iterdir()) / 1e6:.0f} MB)")
    serial = runs[: min(6, len(runs))]
    compute_stats_many(serial[:1], scheduler="synchronous", progress=False)  # grid the areas once
    c0, w0 = time.process_time(), time.perf_counter()
    compute_stats_many(serial, scheduler="synchronous", progress=False)
    w_serial, c_serial = time.perf_counter() - w0, time.process_time() - c0
    print(f"one process, one after another: {len(serial)} runs in {w_serial:.1f} s = "
          f"{len(serial) / w_serial * 60:.1f} runs/min ({c_serial / len(serial):.2f} s CPU per run)")
    w0 = time.perf_counter()
    out = compute_stats_many(runs, workers=workers, progress=True)
    wall = time.perf_counter() - w0
    print(f"Dask local cluster, {workers} workers: {len(out)} runs in {wall:.1f} s = "
          f"{len(out) / wall * 60:.1f} runs/min (cluster start-up included)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="where to keep generated runs")
    ap.add_argument("--resolution", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--naive-areas", type=int, default=4)
    ap.add_argument("--naive-steps", type=int, default=5)
    ap.add_argument("--runs", type=int, default=90)
    ap.add_argument("--dask-resolution", type=float, default=0.25)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cpu", type=int, default=None,
                    help="CPU to pin the single-run part to (default: the first allowed)")
    ap.add_argument("--whole-process", action="store_true",
                    help="only part 4: stats and the plain loop, each as a whole process")
    ap.add_argument("--plain-loop", nargs=2, type=Path, metavar=("RUN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plain_loop:
        plain_loop(*args.plain_loop)
        return

    tmp = None
    root = args.data
    if root is None:
        tmp = tempfile.mkdtemp(prefix="fathom-bench-")
        root = Path(tmp)
    try:
        print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        fine = make_runs(root / f"fine-{args.resolution:g}", 1, args.resolution, 1)[0]
        allowed = os.sched_getaffinity(0)
        cpu = args.cpu if args.cpu is not None else min(allowed)
        os.sched_setaffinity(0, {cpu})
        if args.whole_process:
            print(f"\n== one run as whole processes, pinned to CPU {cpu}, one thread ==")
            whole_process(fine, root, args.repeats)
            return
        print(f"\n== one run, pinned to CPU {cpu}, one thread ==")
        t_stats, (loaded, _) = single_run(fine, args.repeats)
        t_naive = naive(loaded, args.naive_areas, args.naive_steps)
        print(f"speed-up of the vectorised stats over the naive loop: {t_naive / t_stats:.1f}x")
        os.sched_setaffinity(0, allowed)
        print(f"\n== Dask throughput, {args.runs} runs ==")
        throughput(root / f"archive-{args.dask_resolution:g}", args.runs, args.dask_resolution, args.workers)
        print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
