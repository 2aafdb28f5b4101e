"""``fathom shipping stats`` as a whole process: one run reads without dask's machinery, the JSON
text is the statistics' values, and checking the input costs no import.

Item 11 of issue 10: one run at 0.1 deg spent more time importing dask's chunk manager and
``distributed``, indenting JSON in pure Python and importing xarray to check its input than
computing the statistics. Timings are in ``benchmarks/shipping_stats.py --whole-process``; these
tests pin the behaviour behind them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from fathom.domains.shipping.reader import open_run
from fathom.domains.shipping.stats import StatsOptions, compute_stats, stats_json

LAT = np.arange(58.5, 61.0 + 1e-9, 0.25)
LON = np.arange(0.0, 5.0 + 1e-9, 0.25)  # inside Viking


def _run_file(path: Path) -> Path:
    times = np.datetime64("2025-01-05T00", "ns") + np.arange(4) * np.timedelta64(1, "h")
    shape = (times.size, LAT.size, LON.size)
    rng = np.random.default_rng(0)

    def var(values: np.ndarray, std: str, units: str) -> tuple[tuple[str, ...], np.ndarray, dict[str, str]]:
        return ("time", "lat", "lon"), values.astype("float32"), {"standard_name": std, "units": units}

    ds = xr.Dataset({
        "u10": var(rng.normal(8.0, 4.0, shape), "eastward_wind", "m s-1"),
        "v10": var(rng.normal(-2.0, 4.0, shape), "northward_wind", "m s-1"),
        "msl": var(rng.normal(101000.0, 300.0, shape), "air_pressure_at_mean_sea_level", "Pa"),
        "tp": var(np.abs(rng.normal(0.0, 1e-4, shape)), "precipitation_flux", "kg m-2 s-1"),
        "swh": var(np.abs(rng.normal(2.0, 1.0, shape)), "sea_surface_wave_significant_height", "m"),
    }, coords={"time": times, "lat": ("lat", LAT, {"units": "degrees_north"}),
               "lon": ("lon", LON, {"units": "degrees_east"})})
    ds.to_netcdf(path)
    return path


def test_one_run_is_read_without_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _run_file(tmp_path / "run.nc")
    seen: list[Any] = []
    real = xr.open_dataset

    def spy(*args: Any, **kwargs: Any) -> xr.Dataset:
        seen.append(kwargs.get("chunks", "<not given>"))
        return real(*args, **kwargs)

    monkeypatch.setattr(xr, "open_dataset", spy)
    stats = compute_stats(path, options=StatsOptions(allow_partial=True))
    assert seen == [None]  # xarray's own lazy arrays: no dask graph, no chunk-manager discovery
    assert compute_stats(path, options=StatsOptions(allow_partial=True), chunks={}) == stats  # dask when asked
    assert seen[1:] == [{}]
    assert open_run(path, chunks=False).u10.chunks is None and open_run(path).u10.chunks is not None


def test_the_json_text_holds_the_statistics_values(tmp_path: Path) -> None:
    stats = compute_stats(_run_file(tmp_path / "run.nc"), options=StatsOptions(allow_partial=True))
    for indent in (True, False):
        text = stats_json(stats, indent=indent)
        assert text.endswith("}\n") and json.loads(text) == stats == json.loads(json.dumps(stats))
    assert stats_json(stats, indent=True).startswith('{\n  "schema": "fathom.shipping.stats/1",\n')
    assert json.loads(stats_json([stats, stats])) == [stats, stats]
    assert stats_json({"x": np.float64(0.5), "n": np.int64(3)}) == '{"x":0.5,"n":3}\n'


_CHILD = """
import json, sys
from fathom.domains.shipping.stats._compute import _is_canonical
checked_without_xarray = not _is_canonical(sys.argv[1]) and "xarray" not in sys.modules
from fathom.cli import main
try:
    main(["shipping", "stats", sys.argv[1], "--allow-partial", "--out", sys.argv[2]])
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps({"checked_without_xarray": checked_without_xarray, "distributed": "distributed" in sys.modules}))
"""


def test_a_one_run_process_never_imports_distributed(tmp_path: Path) -> None:
    path = _run_file(tmp_path / "run.nc")
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(tmp_path / "s.json")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"checked_without_xarray": True, "distributed": False}
    written = json.loads((tmp_path / "s.json").read_text())
    assert written == compute_stats(path, options=StatsOptions(allow_partial=True))
