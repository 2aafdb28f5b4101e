"""Sea-area statistics: the schema, meteorological oracles, periods, NaN fallbacks, pressure centres.

Fields are tiny synthetic canonical Datasets on the full 0.25-degree domain (34N-66N, 20W-12E);
expected values follow from the definitions in docs/shipping-stats.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from fathom.cli import cli
from fathom.domains.shipping.areas._areas import sea_areas
from fathom.domains.shipping.areas._masks import area_labels
from fathom.domains.shipping.reader._open import ShippingDataError
from fathom.domains.shipping.stats._compute import SCHEMA, StatsOptions, compute_stats
from fathom.errors import FathomWarning

NAMES = [a.name for a in sea_areas()]
LAT = np.round(np.arange(34.0, 66.0 + 1e-9, 0.25), 6)
LON = np.round(np.arange(-20.0, 12.0 + 1e-9, 0.25), 6)
KT = 1852.0 / 3600.0


def canonical(steps: int = 3, **fields: Any) -> xr.Dataset:
    """A canonical run: u10, v10, msl, precip_rate (+ anything given) broadcast to (time, lat, lon)."""
    times = np.datetime64("2025-01-05T00", "ns") + np.arange(steps) * np.timedelta64(1, "h")
    base = {"u10": 0.0, "v10": 0.0, "msl": 1013.0, "precip_rate": 0.0}
    base.update(fields)
    shape = (steps, LAT.size, LON.size)
    data = {k: (("time", "lat", "lon"), np.broadcast_to(np.asarray(v, dtype=np.float64), shape).copy())
            for k, v in base.items() if v is not None}
    return xr.Dataset(data, coords={"time": times, "lat": LAT, "lon": LON}, attrs={"sources": ["synthetic"]})


def test_schema_keys() -> None:
    stats = compute_stats(canonical(swh=2.0, vis=20000.0, t2m=8.0, conv_rate=0.0))
    json.dumps(stats, allow_nan=False)  # strict JSON: no NaN anywhere
    assert stats["schema"] == SCHEMA
    run = stats["run"]
    assert (run["start"], run["end"], run["steps"]) == ("2025-01-05T00:00:00Z", "2025-01-05T02:00:00Z", 3)
    assert run["grid"] == {"dlat": 0.25, "dlon": 0.25} and run["sources"] == ["synthetic"]
    assert list(stats["areas"]) == NAMES
    viking = stats["areas"]["Viking"]
    assert viking["cells"] > 0 and set(viking["periods"]) == {"all", "first", "second"}
    assert len(viking["steps"]) == 3
    s = viking["periods"]["all"]
    assert set(s) >= {"wind", "sea", "precip", "vis", "fog", "t2m_c", "mslp_hpa", "low_centre_hours"}
    assert set(s["wind"]) >= {"kt", "beaufort", "dir8", "mean_dir_deg", "steadiness"}
    assert set(s["wind"]["kt"]) == {"p10", "p25", "p50", "p75", "p90", "max", "mean"}
    assert len(s["wind"]["beaufort"]) == 13 and list(s["wind"]["dir8"]) == ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
    assert set(s["sea"]["hs_m"]) == {"p10", "p50", "p90", "max", "mean"} and len(s["sea"]["classes"]) == 8
    assert set(s["precip"]) == {"frac", "rain", "showers", "drizzle", "snow", "thunder", "mean_rate_mmh",
                                "p90_rate_mmh"}
    assert set(s["vis"]) == {"lt_1000m", "lt_2nm", "lt_5nm", "p10_m", "p50_m"}
    assert set(s["t2m_c"]) == {"mean", "min"} and set(s["mslp_hpa"]) == {"mean", "min", "max"}
    assert s["missing"] == []


def test_optional_quantities_absent_are_null() -> None:
    s = compute_stats(canonical())["areas"]["Dover"]["periods"]["all"]
    assert s["sea"] is None and s["vis"] is None and s["t2m_c"] is None and s["fog"] == 0.0


def test_uniform_westerly_wind_oracle() -> None:
    """12 m/s from 270 deg: all W, mean direction 270, 23.3 kt = Beaufort 6, perfectly steady."""
    stats = compute_stats(canonical(u10=12.0, v10=0.0))
    for name in ("Viking", "Dover", "Trafalgar", "Southeast Iceland"):
        w = stats["areas"][name]["periods"]["all"]["wind"]
        assert w["dir8"]["W"] == 1.0 and sum(w["dir8"].values()) == pytest.approx(1.0)
        assert w["mean_dir_deg"] == 270.0 and w["steadiness"] == 1.0
        assert w["beaufort"][6] == 1.0 and sum(w["beaufort"]) == pytest.approx(1.0)
        assert w["kt"]["p50"] == pytest.approx(12.0 / KT, abs=0.01) == w["kt"]["max"]


def test_direction_sectors_and_steadiness() -> None:
    """Half the hours from N, half from E: mean from 45 deg, steadiness 0.707."""
    u = np.zeros((4, LAT.size, LON.size))
    v = np.zeros_like(u)
    v[:2] = -8.0  # blowing towards the south = from the north
    u[2:] = -8.0  # blowing towards the west = from the east
    w = compute_stats(canonical(steps=4, u10=u, v10=v))["areas"]["Fisher"]["periods"]["all"]["wind"]
    assert w["dir8"]["N"] == 0.5 and w["dir8"]["E"] == 0.5
    assert w["mean_dir_deg"] == pytest.approx(45.0) and w["steadiness"] == pytest.approx(0.7071, abs=1e-3)


@pytest.mark.parametrize(("from_deg", "sector"), [(340.0, "N"), (20.0, "N"), (30.0, "NE"), (200.0, "S"), (250.0, "W")])
def test_sectors_are_centred_on_the_points(from_deg: float, sector: str) -> None:
    rad = np.radians(from_deg)
    w = compute_stats(canonical(u10=-10 * np.sin(rad), v10=-10 * np.cos(rad)))["areas"]["Bailey"]["periods"]["all"]
    assert w["wind"]["dir8"][sector] == 1.0 and w["wind"]["mean_dir_deg"] == pytest.approx(from_deg)


def test_calm() -> None:
    w = compute_stats(canonical())["areas"]["Thames"]["periods"]["all"]["wind"]
    assert w["mean_dir_deg"] is None and w["steadiness"] == 0.0 and w["beaufort"][0] == 1.0


def test_sea_state_and_visibility_oracles() -> None:
    s = compute_stats(canonical(swh=3.0, vis=500.0))["areas"]["Sole"]["periods"]["all"]
    assert s["sea"]["classes"] == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]  # rough
    assert s["sea"]["hs_m"]["p50"] == 3.0
    assert s["vis"]["lt_1000m"] == 1.0 and s["fog"] == 1.0 and s["vis"]["p50_m"] == 500.0


@pytest.mark.parametrize(("rate", "conv", "t2m", "kind"), [
    (2.0, 0.0, 8.0, "rain"),
    (0.3, 0.0, 8.0, "drizzle"),
    (2.0, 1.5, 8.0, "showers"),
    (2.0, 0.0, -2.0, "snow"),
    (0.05, 0.0, 8.0, None),
])
def test_precipitation_types(rate: float, conv: float, t2m: float, kind: str | None) -> None:
    stats = compute_stats(canonical(precip_rate=rate, conv_rate=conv, t2m=t2m))
    p = stats["areas"]["Malin"]["periods"]["all"]["precip"]
    expected = {"rain": 0.0, "drizzle": 0.0, "showers": 0.0, "snow": 0.0, "thunder": 0.0}
    if kind:
        expected[kind] = 1.0
    assert {k: p[k] for k in expected} == expected
    assert p["frac"] == (1.0 if kind else 0.0)
    assert p["mean_rate_mmh"] == (rate if kind else 0.0) and p["p90_rate_mmh"] == (rate if kind else 0.0)


def test_thunder_and_shower_heuristic_without_convective_variable() -> None:
    thunder = compute_stats(canonical(precip_rate=6.0, conv_rate=5.0))["areas"]["Rockall"]["periods"]["all"]["precip"]
    assert thunder["showers"] == 1.0 and thunder["thunder"] == 1.0
    rate = np.zeros((4, LAT.size, LON.size))
    rate[1] = 5.0  # one wet hour between dry ones: showery; steady rain would not be
    p = compute_stats(canonical(steps=4, precip_rate=rate))["areas"]["Rockall"]["periods"]["all"]["precip"]
    assert p["frac"] == 0.25 and p["showers"] == 0.25 and p["thunder"] == 0.25 and p["rain"] == 0.0
    steady = compute_stats(canonical(steps=4, precip_rate=5.0))["areas"]["Rockall"]["periods"]["all"]["precip"]
    assert steady["rain"] == 1.0 and steady["showers"] == 0.0


def test_periods_and_steps() -> None:
    """5 m/s for the first 12 hours, 20 m/s after: first and second differ, all mixes them."""
    u = np.full((25, LAT.size, LON.size), 20.0)
    u[:12] = 5.0
    area = compute_stats(canonical(steps=25, u10=u))["areas"]["Humber"]
    assert area["periods"]["first"]["wind"]["kt"]["p50"] == pytest.approx(5 / KT, abs=0.01)
    assert area["periods"]["second"]["wind"]["kt"]["p50"] == pytest.approx(20 / KT, abs=0.01)
    assert area["periods"]["all"]["wind"]["kt"]["mean"] == pytest.approx((12 * 5 + 13 * 20) / 25 / KT, abs=0.01)
    assert [s["wind"]["kt"]["max"] for s in area["steps"]] == pytest.approx([5 / KT] * 12 + [20 / KT] * 13, abs=0.01)
    half = compute_stats(canonical(steps=25, u10=u), options=StatsOptions(first_hours=6))["areas"]["Humber"]
    assert half["periods"]["first"]["wind"]["kt"]["max"] == pytest.approx(5 / KT, abs=0.01)


def test_percentiles_match_numpy_and_naive_xarray() -> None:
    rng = np.random.default_rng(0)
    u = rng.normal(0, 8, (3, LAT.size, LON.size))
    v = rng.normal(0, 8, (3, LAT.size, LON.size))
    hs = rng.gamma(2.0, 1.0, (3, LAT.size, LON.size))
    ds = canonical(u10=u, v10=v, swh=hs)
    stats = compute_stats(ds)
    labels = area_labels(LAT, LON)
    for k in (0, 12, 30):
        mask = labels == k
        speed = np.hypot(u, v)[:, mask] / KT
        got = stats["areas"][NAMES[k]]
        assert got["cells"] == mask.sum()
        expected = np.percentile(speed, [10, 25, 50, 75, 90])
        assert [got["periods"]["all"]["wind"]["kt"][q] for q in ("p10", "p25", "p50", "p75", "p90")] == \
            pytest.approx(expected, abs=0.006)
        assert got["steps"][1]["sea"]["hs_m"]["p90"] == pytest.approx(np.percentile(hs[1][mask], 90), abs=0.006)
        naive = float(ds.swh.where(xr.DataArray(mask, dims=("lat", "lon"))).mean())
        assert got["periods"]["all"]["sea"]["hs_m"]["mean"] == pytest.approx(naive, abs=0.006)
        assert got["periods"]["first"]["mslp_hpa"]["mean"] == 1013.0


def test_all_nan_area_is_reported_missing_not_guessed() -> None:
    labels = area_labels(LAT, LON)
    hs = np.full((3, LAT.size, LON.size), 2.0)
    hs[0][labels == NAMES.index("Viking")] = np.nan  # no wave data in Viking at step 0
    u = np.full_like(hs, 5.0)
    u[:, labels == NAMES.index("Dogger")] = np.nan  # no wind at all in Dogger
    stats = compute_stats(canonical(u10=u, swh=hs))
    step0 = stats["areas"]["Viking"]["steps"][0]
    assert step0["missing"] == ["sea"] and step0["sea"]["hs_m"]["p50"] is None and step0["sea"]["classes"] is None
    assert stats["areas"]["Viking"]["steps"][1]["sea"]["hs_m"]["p50"] == 2.0
    assert stats["areas"]["Viking"]["periods"]["all"]["missing"] == []  # steps 1-2 still have data
    dogger = stats["areas"]["Dogger"]["periods"]["all"]
    assert dogger["missing"] == ["wind"] and dogger["wind"]["kt"]["mean"] is None
    assert dogger["wind"]["mean_dir_deg"] is None and dogger["wind"]["beaufort"] is None
    json.dumps(stats, allow_nan=False)


def test_grid_missing_areas() -> None:
    north_sea = canonical().sel(lat=slice(51.0, 62.0), lon=slice(-4.0, 10.0))
    with pytest.raises(ShippingDataError, match=r"no sea cell in \d+ area\(s\): .*Biscay.*Trafalgar"):
        compute_stats(north_sea)
    partial = compute_stats(north_sea, options=StatsOptions(allow_partial=True))
    assert partial["areas"]["Trafalgar"]["cells"] == 0
    assert partial["areas"]["Trafalgar"]["periods"]["all"]["missing"][0] == "no cells"
    assert "Trafalgar" in partial["run"]["missing_areas"] and partial["areas"]["Dogger"]["cells"] > 0


def test_pressure_centres_and_low_hours() -> None:
    la, lo = np.meshgrid(LAT, LON, indexing="ij")
    low = 1012.0 - 30.0 * np.exp(-((la - 56.0) ** 2 + ((lo + 12.5) * 0.56) ** 2) / 8.0)
    high = 8.0 * np.exp(-((la - 40.0) ** 2 + ((lo + 5.0) * 0.76) ** 2) / 10.0)
    stats = compute_stats(canonical(steps=2, msl=low + high))
    lows = [c for c in stats["pressure_centres"] if c["kind"] == "low"]
    highs = [c for c in stats["pressure_centres"] if c["kind"] == "high"]
    assert [(c["lat"], c["lon"], c["hpa"]) for c in lows] == [(56.0, -12.5, 982.0)] * 2
    assert [(c["lat"], c["lon"]) for c in highs] == [(40.0, -5.0)] * 2
    assert lows[0]["time"] == "2025-01-05T00:00:00Z"
    assert stats["areas"]["Rockall"]["periods"]["all"]["low_centre_hours"] == 2
    assert stats["areas"]["Malin"]["steps"][0]["low_centre_hours"] == 0  # more than 1 deg away
    assert stats["areas"]["Viking"]["periods"]["first"]["low_centre_hours"] == 0


def test_from_files_equals_from_dataset(tmp_path: Path) -> None:
    ds = canonical(u10=7.0, v10=-3.0, swh=1.0)
    raw = xr.Dataset({
        "u10": ds.u10.astype("float32").assign_attrs(standard_name="eastward_wind", units="m s-1"),
        "v10": ds.v10.astype("float32").assign_attrs(standard_name="northward_wind", units="m s-1"),
        "msl": (ds.msl * 100).astype("float32").assign_attrs(standard_name="air_pressure_at_mean_sea_level",
                                                             units="Pa"),
        "tp": ds.precip_rate.astype("float32").assign_attrs(standard_name="precipitation_flux", units="kg m-2 s-1"),
    })
    raw.to_netcdf(tmp_path / "atmosphere.nc")
    ds.swh.astype("float32").assign_attrs(units="m").to_dataset().to_netcdf(tmp_path / "wave.nc")
    from_files = compute_stats(tmp_path)
    direct = compute_stats(ds)
    assert from_files["areas"] == direct["areas"]
    assert [Path(s).name for s in from_files["run"]["sources"]] == ["atmosphere.nc", "wave.nc"]


def test_cli_one_run(tmp_path: Path) -> None:
    canonical(u10=12.0).rename(precip_rate="precipitation").pipe(_with_units).to_netcdf(tmp_path / "run.nc")
    result = CliRunner().invoke(cli, ["shipping", "stats", str(tmp_path / "run.nc"), "--out", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["areas"]["Viking"]["periods"]["all"]["wind"]["dir8"]["W"] == 1.0
    printed = CliRunner().invoke(cli, ["shipping", "stats", str(tmp_path / "run.nc")])
    assert json.loads(printed.stdout)["schema"] == SCHEMA  # stderr: the counted "no wave variable" warning


def _with_units(ds: xr.Dataset) -> xr.Dataset:
    units = {"u10": "m s-1", "v10": "m s-1", "msl": "hPa", "precipitation": "mm h-1"}
    for name, u in units.items():
        ds[name].attrs["units"] = u
    return ds


# ---------------------------------------------------------------- implausible units, missing wave file
def _files(folder: Path, msl_units: str = "hPa", wave: bool = True) -> Path:
    """A run folder (atmosphere.nc, and wave.nc unless ``wave`` is false) with a westerly 12 m/s."""
    folder.mkdir(parents=True, exist_ok=True)
    canonical(steps=13, u10=12.0).rename(precip_rate="precipitation").pipe(_with_units).pipe(
        lambda ds: ds.assign(msl=ds.msl.assign_attrs(units=msl_units))).to_netcdf(folder / "atmosphere.nc")
    if wave:
        canonical(steps=13, swh=2.0).swh.assign_attrs(units="m").to_dataset().to_netcdf(folder / "wave.nc")
    return folder


def test_mislabelled_units_stop_compute_stats_unless_forced(tmp_path: Path) -> None:
    run = _files(tmp_path / "run", msl_units="Pa")  # hPa values labelled Pa: 10.13 "hPa"
    with pytest.raises(ShippingDataError, match=r"- msl \(.*units 'Pa'.*would fit units 'hPa'"):
        compute_stats(run)
    with pytest.warns(FathomWarning, match="used anyway.*msl"):
        forced = compute_stats(run, force=True)
    assert forced["run"]["data_warnings"][0].startswith("used anyway (force): msl (")
    assert compute_stats(_files(tmp_path / "good"))["run"]["data_warnings"] == []


def test_a_run_without_its_wave_file_says_so(tmp_path: Path) -> None:
    run = _files(tmp_path / "run", wave=False)
    warnings = compute_stats(run)["run"]["data_warnings"]
    assert len(warnings) == 1 and "no wave variable (swh)" in warnings[0] and "from the wind" in warnings[0]
    assert "no wave variable" in compute_stats(canonical())["run"]["data_warnings"][0]
    result = CliRunner().invoke(cli, ["shipping", "stats", str(run), "--out", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert "warning: no wave variable (swh)" in result.stderr and "1 warning(s)" in result.stderr


def test_cli_refuses_mislabelled_units_and_force_warns(tmp_path: Path) -> None:
    run = _files(tmp_path / "run", msl_units="Pa")
    refused = CliRunner().invoke(cli, ["shipping", "stats", str(run)])
    assert isinstance(refused.exception, ShippingDataError)  # fathom.cli.main prints it and exits 1
    assert "- msl (" in str(refused.exception) and "--force" in str(refused.exception)
    forced = CliRunner().invoke(cli, ["shipping", "stats", str(run), "--force", "--out", str(tmp_path / "s.json")])
    assert forced.exit_code == 0, forced.output
    assert "warning: used anyway (force): msl" in forced.stderr and "1 warning(s)" in forced.stderr
    assert json.loads((tmp_path / "s.json").read_text())["run"]["data_warnings"][0].startswith("used anyway")
    for verb in (["write", str(run)], ["write", str(run), "--force"]):
        result = CliRunner().invoke(cli, ["shipping", *verb])
        assert (result.exit_code == 0) == ("--force" in verb), result.output
