"""`read_plain_run` (netCDF4 straight into NumPy) gives what `open_run(...).load()` gives, or declines.

Each input is written to NetCDF and read both ways; where the plain reader takes it, every array,
coordinate and time must be identical (values, NaN positions, dtypes), and `compute_stats` must
give the same JSON as through xarray. Inputs the plain reader leaves to `open_run` must return None.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from fathom.domains.shipping import compute_stats, open_run, write_runs
from fathom.domains.shipping.reader import read_plain_run
from fathom.domains.shipping.stats import _compute

TIMES = np.array(["2025-01-05T00", "2025-01-05T01", "2025-01-05T02"], dtype="datetime64[ns]")


def _dataset(lat: np.ndarray, lon: np.ndarray, **override: object) -> xr.Dataset:
    rng = np.random.default_rng(0)
    shape = (TIMES.size, lat.size, lon.size)

    def field(mean: float, spread: float, std: str, units: str) -> tuple[tuple[str, ...], np.ndarray, dict[str, str]]:
        values = (mean + spread * rng.standard_normal(shape)).astype(np.float32)
        return ("time", "lat", "lon"), values, {"standard_name": std, "units": units}

    variables: dict[str, object] = {
        "u10": field(3.0, 4.0, "eastward_wind", "m s-1"),
        "v10": field(-2.0, 4.0, "northward_wind", "m s-1"),
        "msl": field(101000.0, 800.0, "air_pressure_at_mean_sea_level", "Pa"),
        "tp": (("time", "lat", "lon"), np.abs(rng.standard_normal(shape)).astype(np.float32) / 3600,
               {"standard_name": "precipitation_flux", "units": "kg m-2 s-1"}),
        "vis": field(9000.0, 2000.0, "visibility_in_air", "m"),
        "t2m": field(281.0, 3.0, "air_temperature", "K"),
        "lsm": (("lat", "lon"), (rng.random((lat.size, lon.size)) > 0.8).astype(np.float32),
                {"standard_name": "land_binary_mask", "units": "1"}),
    }
    variables.update(override)
    coords = {"time": ("time", TIMES, {"standard_name": "time"}),
              "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
              "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"})}
    return xr.Dataset({k: v for k, v in variables.items() if v is not None}, coords=coords)


LAT, LON = np.arange(50.0, 53.0, 0.5), np.arange(-4.0, -1.0, 0.5)


def _same_as_xarray(source: object, **kwargs: object) -> None:
    plain = read_plain_run(source, **kwargs)
    assert plain is not None
    with open_run(source, chunks=False, check_ranges=False, **kwargs) as ds:  # type: ignore[arg-type]
        full = ds.load()
    assert list(plain.data) == list(map(str, full.data_vars))
    for name, values in plain.data.items():
        expected = full[name].values
        assert values.dtype == expected.dtype and values.shape == expected.shape, name
        np.testing.assert_array_equal(values, expected, err_msg=name)  # NaN positions must agree too
        attrs = full[name].attrs
        assert plain.attrs[name] == {k: attrs[k] for k in ("source_variable", "source_units", "source_file")}
    for axis in ("lat", "lon"):
        assert getattr(plain, axis).dtype == full[axis].dtype
        np.testing.assert_array_equal(getattr(plain, axis), full[axis].values)
    np.testing.assert_array_equal(plain.times, full["time"].values)
    assert plain.sources == list(full.attrs["sources"])


def test_the_synthetic_generator_runs(tmp_path: Path) -> None:
    run = write_runs(datetime(2025, 1, 5), 1, tmp_path / "nwp", seed=3, resolution=0.5, runs_per_day=1)[0]
    _same_as_xarray(run)
    _same_as_xarray([run / "atmosphere.nc"])  # no wave file


@pytest.mark.parametrize("case", ["plain", "fill_value", "missing_value", "lon_0_360", "explicit", "hpa_degc"])
def test_inputs_the_plain_reader_takes(tmp_path: Path, case: str) -> None:
    lon = LON
    override: dict[str, object] = {}
    kwargs: dict[str, object] = {}
    if case in ("fill_value", "missing_value"):
        values = np.full((TIMES.size, LAT.size, LON.size), 9.0, dtype=np.float32)
        values[0, 0, 0] = -999.0
        attr = "_FillValue" if case == "fill_value" else "missing_value"
        override["vis"] = (("time", "lat", "lon"), values * 1000,
                           {"standard_name": "visibility_in_air", "units": "m", attr: np.float32(-999000.0)})
    if case == "lon_0_360":
        lon = np.arange(350.0, 353.0, 0.5)  # wraps to -10..-7, still ascending
    if case == "explicit":
        override["u10"] = None
        override["wind_u"] = (("time", "lat", "lon"), np.full((TIMES.size, LAT.size, LON.size), 5.0, np.float32),
                              {"units": "m s-1"})
        kwargs["variables"] = {"u10": "wind_u"}
    if case == "hpa_degc":
        override["msl"] = (("time", "lat", "lon"), np.full((TIMES.size, LAT.size, LON.size), 1012.5, np.float32),
                           {"units": "hPa"})
        override["t2m"] = (("time", "lat", "lon"), np.full((TIMES.size, LAT.size, LON.size), 7.5, np.float32),
                           {"standard_name": "air_temperature", "units": "degC"})
    ds = _dataset(LAT, lon, **override)
    if case == "missing_value":
        ds["vis"].encoding["_FillValue"] = None
    path = tmp_path / "run.nc"
    ds.to_netcdf(path)
    _same_as_xarray(path, **kwargs)


def _declined(tmp_path: Path, ds: xr.Dataset, **kwargs: object) -> None:
    path = tmp_path / "run.nc"
    ds.to_netcdf(path)
    assert read_plain_run(path, **kwargs) is None
    open_run(path, chunks=False).close()  # the full reader takes it (and so compute_stats still works)


def test_inputs_left_to_the_full_reader(tmp_path: Path) -> None:
    _declined(tmp_path, _dataset(LAT[::-1], LON))  # latitudes descending: sorted by open_run
    _declined(tmp_path, _dataset(LAT, np.array([179.0, 179.5, 180.0, 180.5, 181.0, 181.5])))  # wraps mid-axis
    amount = np.cumsum(np.ones((TIMES.size, LAT.size, LON.size), np.float32), axis=0) / 1000
    _declined(tmp_path, _dataset(LAT, LON, tp=(("time", "lat", "lon"), amount,
                                                {"standard_name": "precipitation_amount", "units": "m"})))
    packed = _dataset(LAT, LON)
    packed["msl"].encoding.update(dtype="int16", scale_factor=1.0, add_offset=100000.0, _FillValue=-32768)
    _declined(tmp_path, packed)
    transposed = _dataset(LAT, LON)
    transposed["u10"] = transposed["u10"].transpose("lat", "lon", "time")
    _declined(tmp_path, transposed)


def test_files_on_other_grids_are_left_to_the_full_reader(tmp_path: Path) -> None:
    _dataset(LAT, LON).to_netcdf(tmp_path / "atmosphere.nc")
    wave = xr.Dataset({"swh": (("time", "lat", "lon"), np.ones((TIMES.size, 3, 3), np.float32),
                               {"standard_name": "sea_surface_wave_significant_height", "units": "m"})},
                      coords={"time": ("time", TIMES),
                              "lat": ("lat", [50.0, 51.0, 52.0], {"standard_name": "latitude"}),
                              "lon": ("lon", [-4.0, -3.0, -2.0], {"standard_name": "longitude"})})
    wave.to_netcdf(tmp_path / "wave.nc")
    assert read_plain_run(tmp_path) is None


def test_compute_stats_gives_the_same_json_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = write_runs(datetime(2025, 1, 5), 1, tmp_path / "nwp", seed=5, resolution=0.5, runs_per_day=1)[0]
    plain = compute_stats(run)
    monkeypatch.setattr(_compute, "read_plain_run", lambda *a, **k: None)
    full = compute_stats(run)
    assert json.dumps(plain, sort_keys=True) == json.dumps(full, sort_keys=True)
    (run / "wave.nc").unlink()
    via_xarray = compute_stats(run)["run"]["data_warnings"]
    monkeypatch.undo()
    via_plain = compute_stats(run)["run"]["data_warnings"]
    assert via_plain == via_xarray and "no wave variable" in via_plain[0]


def test_one_plain_run_imports_no_xarray(tmp_path: Path) -> None:
    run = write_runs(datetime(2025, 1, 5), 1, tmp_path / "nwp", seed=1, resolution=0.5, runs_per_day=1)[0]
    code = ("import sys\nfrom fathom.domains.shipping import compute_stats\ncompute_stats(sys.argv[1])\n"
            "print(sorted(m for m in ('xarray', 'pandas', 'dask') if sys.modules.get(m) is not None))")
    done = subprocess.run([sys.executable, "-c", code, str(run)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr
