"""Statistics over many runs with Dask: same results as one at a time, resumable, errors named.

Runs are three tiny NetCDF runs (3 hourly steps on a 0.5-degree North Sea grid, partial coverage
allowed) so the whole file takes seconds; the local-cluster path is exercised by the slow test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from fathom.cli import cli
from fathom.domains.shipping.reader._open import ShippingDataError
from fathom.domains.shipping.stats._compute import StatsOptions, compute_stats
from fathom.domains.shipping.stats._scale import compute_stats_many, find_runs, run_name

PARTIAL = StatsOptions(allow_partial=True)


def make_run(folder: Path, wind: float) -> Path:
    """A run folder with atmosphere.nc and wave.nc (CF names and units)."""
    lat = np.arange(50.0, 62.01, 0.5)
    lon = np.arange(-4.0, 10.01, 0.5)
    times = np.datetime64("2025-01-05T00", "ns") + np.arange(3) * np.timedelta64(1, "h")
    shape = (3, lat.size, lon.size)

    def var(value: float, std: str, units: str) -> tuple[tuple[str, ...], np.ndarray, dict[str, str]]:
        return ("time", "lat", "lon"), np.full(shape, value, np.float32), {"standard_name": std, "units": units}

    coords = {"time": times, "lat": ("lat", lat, {"units": "degrees_north"}),
              "lon": ("lon", lon, {"units": "degrees_east"})}
    folder.mkdir(parents=True)
    xr.Dataset({"u10": var(wind, "eastward_wind", "m s-1"), "v10": var(0.0, "northward_wind", "m s-1"),
                "msl": var(101000.0, "air_pressure_at_mean_sea_level", "Pa"),
                "tp": var(0.0, "precipitation_flux", "kg m-2 s-1")}, coords=coords).to_netcdf(folder / "atmosphere.nc")
    xr.Dataset({"swh": var(wind / 5, "sea_surface_wave_significant_height", "m")}, coords=coords).to_netcdf(
        folder / "wave.nc")
    return folder


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    for k, wind in enumerate((5.0, 10.0, 15.0)):
        make_run(tmp_path / "archive" / f"2025010{k + 1}T00Z", wind)
    return tmp_path / "archive"


def test_find_runs(archive: Path) -> None:
    runs = find_runs([archive])
    assert [run_name(r) for r in runs] == ["20250101T00Z", "20250102T00Z", "20250103T00Z"]
    assert [p.name for p in runs[0]] == ["atmosphere.nc", "wave.nc"]
    loose = find_runs([archive / "20250101T00Z" / "atmosphere.nc", archive / "20250101T00Z" / "wave.nc"])
    assert len(loose) == 1 and len(loose[0]) == 2
    (archive.parent / "empty").mkdir()
    with pytest.raises(ShippingDataError, match=r"no \*\.nc files and no run folders"):
        find_runs([archive.parent / "empty"])


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_many_equals_one_at_a_time(archive: Path, scheduler: str) -> None:
    runs = find_runs([archive])
    many = compute_stats_many(runs, scheduler=scheduler, options=PARTIAL, progress=False)
    single = [compute_stats(r, options=PARTIAL) for r in runs]
    assert many == single
    assert [m["areas"]["Dogger"]["periods"]["all"]["sea"]["hs_m"]["p50"] for m in many] == [1.0, 2.0, 3.0]


def test_threads_do_not_crash_the_netcdf_libraries(tmp_path: Path) -> None:
    """netCDF-C/HDF5 from the PyPI wheels crash (SIGSEGV/SIGBUS) when threads read files at once.

    Without the reader's lock this crashed on every try within ten rounds; it runs in a child
    process so a regression fails this test instead of killing the test session.
    """
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_scale import PARTIAL, make_run\n"
        "from fathom.domains.shipping.stats._scale import compute_stats_many\n"
        "runs = [make_run(Path(sys.argv[2]) / f'r{k}', 5.0 + k) for k in range(8)]\n"
        "for _ in range(10):\n"
        "    out = compute_stats_many(runs, scheduler='threads', workers=4, options=PARTIAL, progress=False)\n"
        "    assert all('areas' in o for o in out), out\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (
        f"exit {proc.returncode} (negative: killed by signal)\n{proc.stderr[-3000:]}")


def test_out_dir_resumes(archive: Path, tmp_path: Path) -> None:
    runs = find_runs([archive])
    out = tmp_path / "stats"
    first = compute_stats_many(runs, scheduler="synchronous", out_dir=out, options=PARTIAL, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["20250101T00Z.json", "20250102T00Z.json", "20250103T00Z.json"]
    marked = json.loads((out / "20250102T00Z.json").read_text())
    marked["resumed"] = True
    (out / "20250102T00Z.json").write_text(json.dumps(marked))
    again = compute_stats_many(runs, scheduler="synchronous", out_dir=out, options=PARTIAL, progress=False)
    assert again[1].get("resumed") is True  # read back, not recomputed
    assert again[0] == first[0] and again[2] == first[2]


def test_failed_runs_are_named(archive: Path) -> None:
    bad = archive / "20250104T00Z"
    bad.mkdir()
    (bad / "atmosphere.nc").write_text("not a NetCDF file")
    runs = find_runs([archive])
    with pytest.raises(ShippingDataError, match=r"1 of 4 runs failed:\n  20250104T00Z: .*cannot open as NetCDF"):
        compute_stats_many(runs, scheduler="synchronous", options=PARTIAL, progress=False)
    kept = compute_stats_many(runs, scheduler="synchronous", options=PARTIAL, progress=False, errors="keep")
    assert "error" in kept[3] and "areas" in kept[0]


def test_cli_several_runs(archive: Path, tmp_path: Path) -> None:
    args = ["shipping", "stats", str(archive), "--allow-partial", "--scheduler", "synchronous"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "all.json")])
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "all.json").read_text())) == 3
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "per-run")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "per-run").glob("*.json"))) == 3
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "3 runs found: pass --out" in result.output


@pytest.mark.slow
def test_local_cluster(archive: Path) -> None:
    """The default scheduler: a local dask.distributed cluster with 2 worker processes."""
    runs = find_runs([archive])
    many = compute_stats_many(runs, options=PARTIAL, progress=False, workers=2)
    assert many == [compute_stats(r, options=PARTIAL) for r in runs]
