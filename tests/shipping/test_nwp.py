"""Synthetic NWP runs: CF metadata, layout, coverage, determinism, continuity, physics, files, CLI."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from fathom.cli import cli
from fathom.domains.shipping.areas._areas import sea_areas
from fathom.domains.shipping.nwp._generate import generate_run
from fathom.domains.shipping.nwp._grid import make_grid
from fathom.domains.shipping.nwp._waves import fully_developed_hs
from fathom.domains.shipping.nwp._write import RUN_FILES, write_runs
from fathom.errors import DomainError

START = datetime(2025, 1, 5)
COARSE = 1.0  # degrees: enough for the checks, fast

ATMOSPHERE = {  # short name -> (standard_name, units)
    "u10": ("eastward_wind", "m s-1"),
    "v10": ("northward_wind", "m s-1"),
    "msl": ("air_pressure_at_mean_sea_level", "Pa"),
    "tp": ("precipitation_flux", "kg m-2 s-1"),
    "cp": ("convective_precipitation_flux", "kg m-2 s-1"),
    "vis": ("visibility_in_air", "m"),
    "t2m": ("air_temperature", "K"),
    "lsm": ("land_binary_mask", "1"),
}


@pytest.fixture(scope="module")
def run00() -> tuple[xr.Dataset, xr.Dataset]:
    return generate_run(START, seed=3, resolution=COARSE)


@pytest.fixture(scope="module")
def run12() -> tuple[xr.Dataset, xr.Dataset]:
    return generate_run(START + timedelta(hours=12), seed=3, resolution=COARSE)


def test_cf_names_units_and_attributes(run00: tuple[xr.Dataset, xr.Dataset]) -> None:
    atm, wave = run00
    for ds in (atm, wave):
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert {"title", "institution", "source"} <= set(ds.attrs)
        assert ds.latitude.attrs["units"] == "degrees_north" and ds.latitude.attrs["standard_name"] == "latitude"
        assert ds.longitude.attrs["units"] == "degrees_east" and ds.longitude.attrs["standard_name"] == "longitude"
        assert ds.time.attrs["standard_name"] == "time"
    assert set(atm.data_vars) == set(ATMOSPHERE)
    for name, (standard, units) in ATMOSPHERE.items():
        assert atm[name].attrs["standard_name"] == standard
        assert atm[name].attrs["units"] == units
        assert atm[name].dtype == np.float32
    assert wave.swh.attrs["standard_name"] == "sea_surface_wave_significant_height"
    assert wave.swh.attrs["units"] == "m"
    assert atm.lsm.dims == ("latitude", "longitude")  # no time dimension
    assert set(np.unique(atm.lsm.values)) == {0.0, 1.0}


def test_hourly_t0_to_t24(run00: tuple[xr.Dataset, xr.Dataset]) -> None:
    atm, wave = run00
    times = atm.time.values
    assert times.size == 25
    assert times[0] == np.datetime64(START)
    assert (np.diff(times) == np.timedelta64(1, "h")).all()
    assert (wave.time.values == times).all()
    assert atm.forecast_reference_time.values == np.datetime64(START)


def test_grid_covers_every_sea_area() -> None:
    g = make_grid(0.25)
    assert g.resolution == 0.25 and np.allclose(np.diff(g.lat), 0.25) and np.allclose(np.diff(g.lon), 0.25)
    for area in sea_areas():
        lons = [v[0] for v in area.vertices]
        lats = [v[1] for v in area.vertices]
        assert g.lat.min() <= min(lats) and max(lats) <= g.lat.max(), area.name
        assert g.lon.min() <= min(lons) and max(lons) <= g.lon.max(), area.name


def test_every_sea_area_has_sea_cells_at_half_degree() -> None:
    from fathom.domains.shipping.areas._masks import area_labels, missing_areas

    g = make_grid(0.5)
    assert missing_areas(area_labels(g.lat, g.lon, g.land)) == []


def test_plausible_ranges(run00: tuple[xr.Dataset, xr.Dataset]) -> None:
    atm, wave = run00
    sea = atm.lsm.values == 0
    assert float(atm.msl.min()) > 930e2 and float(atm.msl.max()) < 1060e2
    speed = np.hypot(atm.u10.values, atm.v10.values)
    assert speed.max() < 45.0 and speed[:, sea].mean() > 3.0
    assert float(atm.t2m.min()) > 240.0 and float(atm.t2m.max()) < 315.0
    assert float(atm.tp.min()) >= 0.0 and (atm.cp.values <= atm.tp.values + 1e-12).all()
    assert float(atm.vis.min()) >= 50.0
    hs = wave.swh.values
    assert np.isnan(hs[:, ~sea]).all() and np.isfinite(hs[:, sea]).all()
    assert np.nanmin(hs) > 0.0 and np.nanmax(hs) < 25.0


def test_same_seed_identical_other_seed_differs(run00: tuple[xr.Dataset, xr.Dataset]) -> None:
    atm, wave = generate_run(START, seed=3, resolution=COARSE)
    xr.testing.assert_identical(atm, run00[0])
    xr.testing.assert_identical(wave, run00[1])
    other, _ = generate_run(START, seed=4, resolution=COARSE)
    assert not np.array_equal(other.msl.values, atm.msl.values)


def test_consecutive_runs_agree(run00: tuple[xr.Dataset, xr.Dataset], run12: tuple[xr.Dataset, xr.Dataset]) -> None:
    (a0, w0), (a12, w12) = run00, run12
    np.testing.assert_array_equal(a0.time.values[12:], a12.time.values[:13])
    # the weather state is analytic in time and the wave model steps on one hourly lattice, so the
    # T+12 of the 00Z run is the T+0 of the 12Z run up to float32 rounding
    for name, atol in (("u10", 1e-3), ("v10", 1e-3), ("msl", 1.0), ("t2m", 1e-3), ("vis", 1.0)):
        np.testing.assert_allclose(a0[name].values[12], a12[name].values[0], rtol=1e-4, atol=atol)
    for name in ("tp", "cp"):
        np.testing.assert_allclose(a0[name].values[12], a12[name].values[0], rtol=1e-3, atol=1e-7)
    np.testing.assert_allclose(w0.swh.values[12], w12.swh.values[0], rtol=1e-3, atol=1e-3)


def _sharpest_low(atm: xr.Dataset, k: int) -> tuple[int, int, int, float]:
    """Step, row, column and depth (hPa below the mean of the square ring k cells out) of the
    deepest interior low centre of a run."""
    msl = atm.msl.values / 100.0
    n = msl.shape[1]
    best = (0, 0, 0, -np.inf)
    for t in range(msl.shape[0]):
        for i in range(k, n - k):
            for j in range(k, msl.shape[2] - k):
                box = msl[t, i - k:i + k + 1, j - k:j + k + 1]
                if msl[t, i, j] > box.min():
                    continue
                ring = np.concatenate([box[0], box[-1], box[1:-1, 0], box[1:-1, -1]])
                if ring.mean() - msl[t, i, j] > best[3]:
                    best = (t, i, j, float(ring.mean() - msl[t, i, j]))
    return best


def test_winds_turn_anticlockwise_around_lows_and_toward_low_pressure() -> None:
    atm, _ = generate_run(datetime(2025, 1, 22), seed=1, resolution=1.0, hours=3)  # a low over the areas
    k = 3
    t, i, j, depth = _sharpest_low(atm, k)
    assert depth > 5.0  # a real low, not a flat col
    u, v = atm.u10.values[t], atm.v10.values[t]
    # circulation along the square ring k cells from the centre, anticlockwise (east side going
    # north, north side going west, ...): positive means cyclonic in the northern hemisphere
    circulation = (v[i - k:i + k + 1, j + k].sum() - u[i + k, j - k:j + k + 1].sum()
                   - v[i - k:i + k + 1, j - k].sum() + u[i - k, j - k:j + k + 1].sum())
    assert circulation > 0.0
    # cross-isobar flow: over the sea the wind mostly has a component down the pressure gradient
    dpdy, dpdx = np.gradient(atm.msl.values, axis=(1, 2))
    down = (atm.u10.values * dpdx + atm.v10.values * dpdy)[:, atm.lsm.values == 0]
    assert np.mean(down < 0) > 0.6


def test_waves_grow_with_wind_fetch_and_duration() -> None:
    from fathom.domains.shipping.nwp._waves import significant_wave_height, spin_up_hours, upwind_fetch

    speeds = np.array([2.0, 5.0, 10.0, 15.0, 20.0])
    assert np.all(np.diff(fully_developed_hs(speeds, np.array(1500.0))) > 0)
    assert fully_developed_hs(np.array(15.0), np.array(30.0)) < fully_developed_hs(np.array(15.0), np.array(600.0))
    grid = make_grid(1.0)
    t0 = 24.0 * 400
    hours = t0 + np.arange(25.0)
    spin = spin_up_hours(t0)
    calm = np.full((spin.size, *grid.shape), 1.0)  # a light westerly before the run
    results = {}
    for speed in (8.0, 16.0):  # then a steady westerly gale or breeze from T+0
        u = np.full((hours.size, *grid.shape), speed)
        results[speed] = significant_wave_height(0, grid, hours, u, np.zeros_like(u), spin, calm, np.zeros_like(calm))
    sea = ~grid.land
    assert (results[16.0][-1][sea] > results[8.0][-1][sea]).all()  # more wind, higher waves
    open_sea, sheltered = grid.index(50.0, -15.0), grid.index(55.0, 1.0)  # Atlantic vs lee of England
    assert upwind_fetch(grid)[12][sheltered] < 300.0
    gale = results[16.0]
    assert (np.diff(gale[:, open_sea[0], open_sea[1]]) > 0).all()  # the sea builds hour by hour
    assert gale[-1][open_sea] > 2.0 * gale[0][open_sea]
    assert gale[-1][open_sea] > 1.25 * gale[-1][sheltered]  # longer fetch, higher waves


def test_write_runs_layout_resume_and_reader(tmp_path: Path) -> None:
    folders = write_runs(START, 1, tmp_path, seed=2, resolution=2.0, hours=3, progress=False)
    assert [f.name for f in folders] == ["20250105T00Z", "20250105T12Z"]
    for f in folders:
        assert sorted(p.name for p in f.iterdir()) == sorted(RUN_FILES)
    with xr.open_dataset(folders[0] / "atmosphere.nc") as ds:
        assert ds.sizes["time"] == 4 and ds.u10.attrs["standard_name"] == "eastward_wind"
        assert ds.attrs["Conventions"] == "CF-1.8"
    stamp = {f: (f / "atmosphere.nc").stat().st_mtime_ns for f in folders}
    (folders[1] / "wave.nc").unlink()
    write_runs(START, 1, tmp_path, seed=2, resolution=2.0, hours=3, progress=False)
    assert (folders[0] / "atmosphere.nc").stat().st_mtime_ns == stamp[folders[0]]  # complete: skipped
    assert (folders[1] / "wave.nc").is_file()  # incomplete: written again
    assert not [p for p in tmp_path.rglob("*.tmp")]

    from fathom.domains.shipping.reader._open import open_run

    ds = open_run(folders[0])
    assert {"u10", "v10", "msl", "precip_rate", "conv_rate", "swh", "vis", "t2m", "lsm"} <= set(ds.data_vars)


def test_files_are_reproducible(tmp_path: Path) -> None:
    a = write_runs(START, 1, tmp_path / "a", seed=5, resolution=2.0, hours=2, runs_per_day=1, progress=False)[0]
    b = write_runs(START, 1, tmp_path / "b", seed=5, resolution=2.0, hours=2, runs_per_day=1, progress=False)[0]
    for name in RUN_FILES:
        with xr.open_dataset(a / name) as da, xr.open_dataset(b / name) as db:
            xr.testing.assert_identical(da, db)


def test_cli_writes_then_skips(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["shipping", "nwp", "--start", "2025-01-01", "--days", "1", "--out", str(tmp_path),
            "--resolution", "2.0", "--hours", "2", "--seed", "7", "--quiet"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "2 run(s)" in first.output and "2 written" in first.output
    assert sorted(os.listdir(tmp_path)) == ["20250101T00Z", "20250101T12Z"]
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "0 written, 2 already complete" in again.output


def test_cli_rejects_bad_resolution(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["shipping", "nwp", "--start", "2025-01-01", "--days", "1", "--out",
                                      str(tmp_path), "--resolution", "5"])
    assert result.exit_code == 2 and "resolution" in result.output.lower()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seed": -1}, "seed"),
    ({"hours": 0}, "hours"),
    ({"resolution": 3.0}, "resolution"),
])
def test_bad_arguments_are_explained(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        generate_run(START, **kwargs)  # type: ignore[arg-type]


def test_start_must_be_on_the_hour() -> None:
    with pytest.raises(DomainError, match="on the hour"):
        generate_run(datetime(2025, 1, 1, 0, 30))


@pytest.mark.slow
def test_shipped_land_table_matches_globe(tmp_path: Path) -> None:
    pytest.importorskip("global_land_mask")
    import json

    from fathom.domains.shipping.nwp._grid import build_land_table

    built = json.loads(build_land_table(tmp_path / "land.json").read_text())
    shipped = json.loads((Path(make_grid.__code__.co_filename).parent / "_land.json").read_text())
    assert built["data"] == shipped["data"]


# ---------------------------------------------------------------- interrupted writes
def _leftovers(root: Path) -> list[Path]:
    from fathom._files import is_leftover

    return sorted(p for p in root.rglob(".*") if is_leftover(p))


def test_kill_9_mid_write_leaves_no_run_that_stats_accepts(tmp_path: Path) -> None:
    """A real `fathom shipping nwp` killed with SIGKILL while it writes a run folder."""
    import signal
    import subprocess
    import sys
    import time

    from fathom.domains.shipping.nwp._write import is_complete_run
    from fathom.domains.shipping.reader import ShippingDataError
    from fathom.domains.shipping.stats import find_runs

    out = tmp_path / "nwp"
    args = ["shipping", "nwp", "--start", "2025-01-05", "--days", "1", "--out", str(out),
            "--resolution", "0.5", "--hours", "24", "--runs-per-day", "1", "--seed", "4", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-c", "from fathom.cli import main; main()", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, writing = time.monotonic() + 240, None
        while writing is None and proc.poll() is None and time.monotonic() < deadline:
            try:  # a temporary run folder with a file in it: the process is writing NetCDF now
                writing = next((p for p in out.glob(".*.tmp") if any(p.iterdir())), None)
            except FileNotFoundError:  # renamed into place between glob and iterdir
                writing = None
            time.sleep(0.002)
        assert writing is not None, f"never saw a run being written (exit {proc.poll()})"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert all(is_complete_run(p) for p in visible)  # nothing that looks like a run is half-written
    left = _leftovers(out)
    assert left and left[0].parent == out  # what the kill left: one hidden temporary folder
    with pytest.raises(ShippingDataError, match="interrupted"):
        find_runs([out])  # `shipping stats OUT` refuses, naming it ...
    result = CliRunner().invoke(cli, ["shipping", "stats", str(left[0])])
    assert isinstance(result.exception, ShippingDataError) and str(left[0]) in str(result.exception)  # ... and it
    # re-running the command finishes the runs and removes the leftover
    write_runs(START, 1, out, seed=4, resolution=0.5, hours=24, runs_per_day=1, progress=False)
    assert _leftovers(out) == [] and len(find_runs([out])) == 1


def test_a_failed_write_leaves_no_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fathom.domains.shipping.nwp import _write

    real = _write._write_netcdf

    def fail_on_waves(ds: xr.Dataset, path: Path) -> None:
        if path.name == "wave.nc":
            raise OSError(28, "No space left on device")
        real(ds, path)

    monkeypatch.setattr(_write, "_write_netcdf", fail_on_waves)
    with pytest.raises(OSError, match="No space"):
        write_runs(START, 1, tmp_path, seed=2, resolution=2.0, hours=2, runs_per_day=1, progress=False)
    assert os.listdir(tmp_path) == []  # no atmosphere-only run folder, no temporary folder


def test_a_rewrite_replaces_an_incomplete_folder_and_old_leftovers(tmp_path: Path) -> None:
    folder = tmp_path / "20250105T00Z"
    folder.mkdir()
    (folder / "atmosphere.nc").write_bytes(b"stale")
    (folder / ".wave.nc.x1y2z3.tmp").write_bytes(b"half")  # what earlier versions left on kill -9
    (tmp_path / ".20250105T00Z.deadbeef.tmp").mkdir()  # what this version leaves
    write_runs(START, 1, tmp_path, seed=2, resolution=2.0, hours=2, runs_per_day=1, progress=False)
    assert sorted(os.listdir(tmp_path)) == ["20250105T00Z"]
    assert sorted(os.listdir(folder)) == sorted(RUN_FILES)
    with xr.open_dataset(folder / "atmosphere.nc") as ds:
        assert ds.sizes["time"] == 3
