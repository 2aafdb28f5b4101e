"""The NetCDF reader: CF and short names, units, accumulations, coordinates, merging, errors.

Every dataset is a tiny synthetic one with CF attributes, round-tripped through a NetCDF file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from fathom.domains.shipping.reader._open import ShippingDataError, open_run, run_files
from fathom.errors import DomainError, FathomWarning

TIMES = np.array(["2025-01-05T00", "2025-01-05T01", "2025-01-05T02", "2025-01-05T03"], dtype="datetime64[ns]")
LAT = np.array([50.0, 51.0, 52.0])
LON = np.array([-4.0, -3.0])


def _var(values: np.ndarray | float, std: str | None, units: str | None, dims: tuple[str, ...] = ("time", "lat", "lon"),
         **extra: str) -> tuple[tuple[str, ...], np.ndarray, dict[str, str]]:
    shape = tuple({"time": TIMES.size, "lat": LAT.size, "lon": LON.size}[d] for d in dims)
    data = np.broadcast_to(np.asarray(values, dtype=np.float32), shape).copy()
    attrs = {k: v for k, v in (("standard_name", std), ("units", units)) if v is not None}
    return dims, data, {**attrs, **extra}


def _coords() -> dict[str, tuple[str, np.ndarray, dict[str, str]]]:
    return {"time": ("time", TIMES, {"standard_name": "time"}),
            "lat": ("lat", LAT, {"standard_name": "latitude", "units": "degrees_north"}),
            "lon": ("lon", LON, {"standard_name": "longitude", "units": "degrees_east"})}


def cf_atmosphere(**override: tuple[tuple[str, ...], np.ndarray, dict[str, str]] | None) -> xr.Dataset:
    """Atmosphere file with CF standard names and SI units (like the synthetic generator's)."""
    variables = {
        "u10": _var(3.0, "eastward_wind", "m s-1"),
        "v10": _var(-4.0, "northward_wind", "m s-1"),
        "msl": _var(101300.0, "air_pressure_at_mean_sea_level", "Pa"),
        "tp": _var(1.0 / 3600.0, "precipitation_flux", "kg m-2 s-1"),
        "cp": _var(0.5 / 3600.0, "convective_precipitation_flux", "kg m-2 s-1"),
        "vis": _var(8000.0, "visibility_in_air", "m"),
        "t2m": _var(283.15, "air_temperature", "K"),
        "lsm": _var(0.0, "land_binary_mask", "1", dims=("lat", "lon")),
    }
    variables.update(override)
    return xr.Dataset({k: v for k, v in variables.items() if v is not None}, coords=_coords(),
                      attrs={"Conventions": "CF-1.8"})


def write(ds: xr.Dataset, path: Path) -> Path:
    ds.to_netcdf(path)
    return path


def test_cf_names_and_si_units(tmp_path: Path) -> None:
    ds = open_run(write(cf_atmosphere(), tmp_path / "atmosphere.nc"))
    assert dict(ds.sizes) == {"time": 4, "lat": 3, "lon": 2}
    assert ds.u10.dims == ("time", "lat", "lon") and ds.lsm.dims == ("lat", "lon")
    assert float(ds.u10[0, 0, 0]) == pytest.approx(3.0)
    assert float(ds.msl[0, 0, 0]) == pytest.approx(1013.0)
    assert float(ds.precip_rate[0, 0, 0]) == pytest.approx(1.0, rel=1e-5)
    assert float(ds.conv_rate[0, 0, 0]) == pytest.approx(0.5, rel=1e-5)
    assert float(ds.t2m[0, 0, 0]) == pytest.approx(10.0, abs=1e-4)
    assert float(ds.vis[0, 0, 0]) == pytest.approx(8000.0)
    assert ds.msl.attrs["units"] == "hPa" and ds.precip_rate.attrs["units"] == "mm h-1"
    assert ds.t2m.attrs["source_variable"] == "t2m"


def test_lazy_until_needed(tmp_path: Path) -> None:
    ds = open_run(write(cf_atmosphere(), tmp_path / "a.nc"))
    assert ds.u10.chunks is not None and ds.msl.chunks is not None


def test_short_names_without_standard_names(tmp_path: Path) -> None:
    """ERA5 style: names only, hPa, knots, degC, a percentage land fraction."""
    ds = cf_atmosphere(
        u10=_var(10.0, None, "knots"), v10=_var(0.0, None, "kt"), msl=_var(1001.5, None, "hPa"),
        tp=_var(2.0, None, "mm/h"), cp=None, vis=_var(5.0, None, "km"), t2m=_var(-3.0, None, "degC"),
        lsm=_var(100.0, None, "%", dims=("lat", "lon")))
    out = open_run(write(ds, tmp_path / "era5.nc"))
    assert float(out.u10[1, 1, 1]) == pytest.approx(10 * 1852 / 3600, rel=1e-6)
    assert float(out.msl[0, 0, 0]) == pytest.approx(1001.5)
    assert float(out.precip_rate[0, 0, 0]) == pytest.approx(2.0)
    assert float(out.vis[0, 0, 0]) == pytest.approx(5000.0)
    assert float(out.t2m[0, 0, 0]) == pytest.approx(-3.0)
    assert float(out.lsm[0, 0]) == pytest.approx(1.0)
    assert "conv_rate" not in out


def test_running_accumulation_becomes_rate(tmp_path: Path) -> None:
    """ERA5-like ``tp`` in metres summed since the run started; step 0 takes step 1's rate."""
    amounts_mm = np.array([0.0, 1.0, 3.0, 3.5])
    tp = _var(amounts_mm[:, None, None] / 1000.0, None, "m")
    out = open_run(write(cf_atmosphere(tp=tp, cp=None), tmp_path / "acc.nc"))
    assert out.precip_rate.attrs["accumulation"] == "running"
    np.testing.assert_allclose(out.precip_rate[:, 0, 0].values, [1.0, 1.0, 2.0, 0.5], rtol=1e-5)


def test_interval_amounts_detected_and_reset_handled(tmp_path: Path) -> None:
    """Per-step amounts (ERA5 hourly reanalysis) fluctuate, so 'auto' reads them per step."""
    per_step = np.array([2.0, 0.5, 3.0, 1.0])
    out = open_run(write(cf_atmosphere(tp=_var(per_step[:, None, None], "precipitation_amount", "kg m-2"), cp=None),
                         tmp_path / "int.nc"))
    assert out.precip_rate.attrs["accumulation"] == "interval"
    np.testing.assert_allclose(out.precip_rate[:, 2, 1].values, per_step)
    # forced running: each drop (2.0 -> 0.5, 3.0 -> 1.0) is a reset, counted as the amount since it
    forced = open_run(tmp_path / "int.nc", accumulation="running")
    np.testing.assert_allclose(forced.precip_rate[:, 0, 0].values, [0.5, 0.5, 2.5, 1.0])


def test_cell_methods_interval_and_lwe_thickness(tmp_path: Path) -> None:
    tp = _var(np.array([1.0, 2.0, 3.0, 4.0])[:, None, None], "lwe_thickness_of_precipitation_amount", "mm",
              cell_methods="time: sum (interval: 1 hour)")
    out = open_run(write(cf_atmosphere(tp=tp, cp=None), tmp_path / "cm.nc"))
    np.testing.assert_allclose(out.precip_rate[:, 0, 0].values, [1.0, 2.0, 3.0, 4.0])


def test_longitudes_0_360_and_latitudes_descending(tmp_path: Path) -> None:
    lon360 = np.array([356.0, 357.0, 1.0])  # -4, -3, +1 once wrapped
    lat_desc = LAT[::-1]
    lat_grid = np.broadcast_to(lat_desc[None, :, None], (4, 3, 3)).astype(np.float32)
    ds = xr.Dataset(
        {"u10": (("time", "latitude", "longitude"), lat_grid, {"units": "m s-1"}),
         "v10": (("time", "latitude", "longitude"), np.broadcast_to(lon360, (4, 3, 3)).astype(np.float32),
                 {"units": "m s-1"}),
         "msl": (("time", "latitude", "longitude"), np.full((4, 3, 3), 1000.0, np.float32), {"units": "hPa"}),
         "tp": (("time", "latitude", "longitude"), np.zeros((4, 3, 3), np.float32), {"units": "mm h-1"})},
        coords={"time": TIMES, "latitude": ("latitude", lat_desc, {"units": "degrees_north"}),
                "longitude": ("longitude", lon360, {"units": "degrees_east"})})
    out = open_run(write(ds, tmp_path / "wrap.nc"), check_ranges=False)  # winds of 356 m/s: coordinates, not weather
    assert out.lat.values.tolist() == [50.0, 51.0, 52.0]
    assert out.lon.values.tolist() == [-4.0, -3.0, 1.0]
    # values moved with their coordinates: u10 holds the latitude, v10 the original longitude
    assert out.u10.sel(lat=52.0).values.min() == 52.0
    assert out.v10.sel(lon=1.0).values.min() == 1.0 and out.v10.sel(lon=-4.0).values.min() == 356.0


def test_valid_time_and_singleton_dims(tmp_path: Path) -> None:
    """New-style ERA5 files: ``valid_time`` as the time dimension, a size-1 ``number`` dimension."""
    ds = cf_atmosphere().rename(time="valid_time").expand_dims(number=[0])
    ds["lsm"] = ds["lsm"].isel(number=0)
    out = open_run(write(ds, tmp_path / "vt.nc"))
    assert out.u10.dims == ("time", "lat", "lon") and out.sizes["time"] == 4


def test_ensemble_dimension_is_refused(tmp_path: Path) -> None:
    ds = cf_atmosphere().expand_dims(number=[0, 1])
    with pytest.raises(ShippingDataError, match=r"number.*isel\(number=0\)"):
        open_run(write(ds, tmp_path / "ens.nc"))


def test_missing_variable_names_expectations_and_contents(tmp_path: Path) -> None:
    path = write(cf_atmosphere(u10=None), tmp_path / "no_u.nc")
    with pytest.raises(ShippingDataError) as info:
        open_run(path)
    message = str(info.value)
    assert "missing u10" in message
    assert "eastward_wind" in message and "x_wind" in message and "u10 / 10u" in message
    assert "v10 (northward_wind, m s-1" in message and "msl (air_pressure_at_mean_sea_level, Pa" in message
    assert str(path) in message
    assert isinstance(info.value, DomainError)


def test_a_failed_open_closes_the_files_it_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Left open, the garbage collector would close them later from any thread (HDF5 is not thread-safe)."""
    from fathom.domains.shipping.reader import _open as _reader

    opened: list[int] = []
    closed: list[int] = []
    real_open, real_close = _reader._open_file, xr.Dataset.close

    def spy_open(path: Path, chunks: object) -> xr.Dataset:
        ds = real_open(path, chunks)  # type: ignore[arg-type]
        opened.append(id(ds))
        return ds

    def spy_close(self: xr.Dataset) -> None:
        closed.append(id(self))
        real_close(self)

    monkeypatch.setattr(_reader, "_open_file", spy_open)
    monkeypatch.setattr(xr.Dataset, "close", spy_close)
    good = write(cf_atmosphere(), tmp_path / "good.nc")
    bad_units = write(cf_atmosphere(msl=_var(1013.0, "air_pressure_at_mean_sea_level", "furlongs")), tmp_path / "u.nc")
    no_u10 = [write(cf_atmosphere(u10=None), tmp_path / f"no_u{k}.nc") for k in range(2)]
    for source in (no_u10, [good, bad_units]):  # a missing variable; unknown units
        opened.clear()
        closed.clear()
        with pytest.raises(ShippingDataError):
            open_run(source)
        assert len(opened) == 2 and set(opened) <= set(closed)


def test_unknown_units_are_refused(tmp_path: Path) -> None:
    path = write(cf_atmosphere(msl=_var(1013.0, "air_pressure_at_mean_sea_level", "furlongs")), tmp_path / "u.nc")
    with pytest.raises(ShippingDataError, match=r"'msl'.*'furlongs'.*Accepted: Pa, hPa"):
        open_run(path)


def test_explicit_variable_names(tmp_path: Path) -> None:
    ds = cf_atmosphere().rename(u10="U_10M")
    ds["U_10M"].attrs.pop("standard_name")
    path = write(ds, tmp_path / "cosmo.nc")
    with pytest.raises(ShippingDataError, match="missing u10"):
        open_run(path)
    assert float(open_run(path, variables={"u10": "U_10M"}).u10[0, 0, 0]) == pytest.approx(3.0)
    with pytest.raises(ShippingDataError, match="unknown canonical"):
        open_run(path, variables={"wind": "U_10M"})


def test_several_candidates_prefer_10m_or_ask(tmp_path: Path) -> None:
    ds = cf_atmosphere().rename(u10="ua")
    ds["ua100"] = ds["ua"] * 2
    with pytest.raises(ShippingDataError, match="several variables could be the 10 m eastward wind: ua, ua100"):
        open_run(write(ds, tmp_path / "amb.nc"))
    tagged = ds.copy()
    tagged["ua"] = tagged["ua"].expand_dims(height=[10.0])
    tagged["ua100"] = tagged["ua100"].expand_dims(height_above_ground=[100.0])
    out = open_run(write(tagged, tmp_path / "heights.nc"))
    assert float(out.u10[0, 0, 0]) == pytest.approx(3.0)


def _wave(values: list[list[float]], lat: list[float]) -> xr.Dataset:
    data = np.stack([np.array(values, np.float32)] * TIMES.size)
    return xr.Dataset(
        {"swh": (("time", "lat", "lon"), data, {"standard_name": "sea_surface_wave_significant_height", "units": "m"})},
        coords={"time": TIMES, "lat": ("lat", lat, {"units": "degrees_north"}),
                "lon": ("lon", [-4.0, -3.0], {"units": "degrees_east"})})


def test_wave_file_on_another_grid_is_interpolated(tmp_path: Path) -> None:
    write(cf_atmosphere(), tmp_path / "atmosphere.nc")
    write(_wave([[1.0, 3.0], [5.0, 7.0]], [50.0, 52.0]), tmp_path / "wave.nc")
    out = open_run(tmp_path)
    assert out.swh.sizes == {"time": 4, "lat": 3, "lon": 2}
    np.testing.assert_allclose(out.swh[0].values, [[1.0, 3.0], [3.0, 5.0], [5.0, 7.0]])  # bilinear at 51N
    assert any("swh interpolated" in n for n in out.attrs["notes"])
    assert [Path(s).name for s in out.attrs["sources"]] == ["atmosphere.nc", "wave.nc"]


def test_wave_nan_near_coast_falls_back_to_nearest(tmp_path: Path) -> None:
    write(cf_atmosphere(), tmp_path / "atmosphere.nc")
    write(_wave([[np.nan, 3.0], [5.0, 7.0]], [50.0, 51.5]), tmp_path / "wave.nc")
    out = open_run(tmp_path)
    assert float(out.swh[0, 1, 0]) == pytest.approx(5.0)  # 51N 4W: bilinear meets the land NaN
    assert np.isnan(float(out.swh[0, 0, 0]))  # the land cell itself stays NaN


def test_files_split_in_time_are_joined(tmp_path: Path) -> None:
    ds = cf_atmosphere()
    write(ds.isel(time=slice(0, 2)), tmp_path / "part1.nc")
    write(ds.isel(time=slice(2, 4)), tmp_path / "part2.nc")
    out = open_run([tmp_path / "part2.nc", tmp_path / "part1.nc"])
    assert out.time.values.tolist() == ds.time.values.tolist()


def test_run_files_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShippingDataError, match=r"no \*\.nc"):
        run_files(tmp_path / "empty")
    with pytest.raises(ShippingDataError, match="does not exist"):
        run_files(tmp_path / "nope.nc")
    (tmp_path / "bad.nc").write_text("not netcdf")
    with pytest.raises(ShippingDataError, match="cannot open as NetCDF"):
        open_run(tmp_path / "bad.nc")


# ---------------------------------------------------------------- plausibility of values for their units
def _winter_wind(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """A windy but real-looking field (components ~ N(0, 8 m/s), speed p95 ~ 20 m/s) times ``scale``."""
    rng = np.random.default_rng(0)
    shape = (TIMES.size, LAT.size, LON.size)
    return rng.normal(0, 8, shape) * scale, rng.normal(0, 8, shape) * scale


@pytest.mark.parametrize(("override", "variable", "units", "fits"), [
    ({"msl": _var(1013.0, "air_pressure_at_mean_sea_level", "Pa")}, "msl", "'Pa'", "'hPa'"),  # hPa tagged Pa
    ({"t2m": _var(10.0, "air_temperature", "K")}, "t2m", "'K'", "'degC'"),  # degC tagged K
    ({"vis": _var(np.linspace(0.2, 40.0, LON.size), "visibility_in_air", "m")}, "vis", "'m'", "'km'"),  # km tagged m
    ({"u10": _var(_winter_wind(3.6)[0], "eastward_wind", "m s-1"),  # km/h tagged m s-1
      "v10": _var(_winter_wind(3.6)[1], "northward_wind", "m s-1")}, "wind", "'m s-1'", "'km h-1'"),
])
def test_mislabelled_units_stop_with_the_variable_named(tmp_path: Path, override: dict[str, object], variable: str,
                                                        units: str, fits: str) -> None:
    path = write(cf_atmosphere(**override), tmp_path / "atmosphere.nc")  # type: ignore[arg-type]
    with pytest.raises(ShippingDataError) as err:
        open_run(path)
    message = str(err.value)
    assert f"- {variable} (" in message and f"units {units}" in message and str(path) in message
    assert "min " in message and "95th percentile" in message and "max " in message  # the values seen
    assert f"would fit units {fits}" in message and "--force" in message and "units attribute" in message
    assert message.count("\n  - ") == 1  # only the mislabelled variable is blamed


def test_correct_units_of_the_same_values_pass(tmp_path: Path) -> None:
    u, v = _winter_wind(3.6)
    ds = cf_atmosphere(u10=_var(u, "eastward_wind", "km h-1"), v10=_var(v, "northward_wind", "km/h"),
                       msl=_var(1013.0, None, "hPa"), t2m=_var(10.0, None, "degC"),
                       vis=_var(np.linspace(0.2, 40.0, LON.size), None, "km"))
    out = open_run(write(ds, tmp_path / "a.nc"))
    assert float(abs(out.u10).max()) == pytest.approx(float(np.abs(u).max()) / 3.6, rel=1e-5)
    assert "data_warnings" not in out.attrs


def test_force_turns_the_error_into_a_warning(tmp_path: Path) -> None:
    path = write(cf_atmosphere(msl=_var(1013.0, None, "Pa"), t2m=_var(10.0, None, "K")), tmp_path / "a.nc")
    with pytest.warns(FathomWarning, match="used anyway") as caught:
        out = open_run(path, force=True)
    blamed = {str(w.message).removeprefix("used anyway (force): ").split(" ")[0] for w in caught}
    assert len(caught) == 2 and blamed == {"msl", "t2m"}
    assert len(out.attrs["data_warnings"]) == 2 and float(out.msl[0, 0, 0]) == pytest.approx(10.13)
    assert open_run(path, check_ranges=False).msl.attrs["units"] == "hPa"  # skipped: no error, no warning


@pytest.mark.parametrize(("name", "values", "units"), [
    ("swh", 250.0, "m"), ("tp", 2.0, "kg m-2 s-1"), ("lsm", 100.0, "1"), ("vis", 5e7, "m"),
])
def test_other_implausible_fields(tmp_path: Path, name: str, values: float, units: str) -> None:
    dims = ("lat", "lon") if name == "lsm" else ("time", "lat", "lon")
    ds = cf_atmosphere(**{name: _var(values, None, units, dims=dims)})
    with pytest.raises(ShippingDataError, match="implausible"):
        open_run(write(ds, tmp_path / "a.nc"))


def test_interrupted_writes_are_refused(tmp_path: Path) -> None:
    """What `fathom shipping nwp` killed mid-write leaves: a hidden temporary run folder, or (earlier
    versions) a hidden temporary file beside atmosphere.nc instead of wave.nc."""
    unfinished = tmp_path / ".20250105T00Z.1a2b3c4d.tmp"
    unfinished.mkdir()
    write(cf_atmosphere(), unfinished / "atmosphere.nc")
    for source in (unfinished, unfinished / "atmosphere.nc"):
        with pytest.raises(ShippingDataError, match=r"interrupted.*Re-run the same `fathom shipping nwp`"):
            open_run(source)
    old_style = tmp_path / "20250105T12Z"
    old_style.mkdir()
    write(cf_atmosphere(), old_style / "atmosphere.nc")
    (old_style / ".wave.nc.k3j9x.tmp").write_bytes(b"CDF\x01half")
    with pytest.raises(ShippingDataError, match=r"\.wave\.nc\.k3j9x\.tmp.*may be incomplete"):
        run_files(old_style)
    (old_style / ".wave.nc.k3j9x.tmp").unlink()
    assert [p.name for p in run_files(old_style)] == ["atmosphere.nc"]
