"""Seeded minute-by-minute telemetry of the biscuit line, with faults injected by name.

Normal running: the mixer works in 15-minute batches (dough warms as it mixes, the moulder's hopper
empties and refills with each batch), every other sensor sits at its nominal value with slow,
autocorrelated noise (an AR(1) process per sensor, seeded from the seed and the sensor's name, so
adding a device never changes the others' numbers). Values stay inside each sensor's physical range
(:class:`~fathom.domains.factory.plant.Sensor`) and are rounded to 2 decimals.

Faults (:data:`FAULTS`) start at ``onset`` minutes and develop from there; product takes time to
travel, so a fault upstream shows at the camera later (the lags are the ``_*_TO_CAMERA_MIN`` constants).
Alarms are raised from thresholds (:data:`ALARM_RULES`) after 2 minutes over and cleared after 5 back.

Files (:func:`write_telemetry`): one long CSV ``telemetry.csv`` (``timestamp,device,sensor,unit,value``,
one row per sensor per minute: devices have different sensors, so a long table has no empty cells
and filters by device or sensor with one condition), ``alarms.csv``
(``raised,cleared,device,code,severity,message``; ``cleared`` empty while active) and
``simulation.json`` (start, minutes, seed, faults, onset). :func:`read_telemetry` reads them back.

Not covered: live ingest (MQTT, REST); the tools that read telemetry (:mod:`.tools`).
"""

from __future__ import annotations

import csv
import json
import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np

from fathom._files import atomic_dir
from fathom.domains.factory.plant import DEVICES, PLANT_DATE, FactoryError, device, fault_code
from fathom.errors import DataError, OutputError, Problem, did_you_mean

__all__ = [
    "ALARM_RULES", "FAULTS", "MAX_HOURS", "Alarm", "AlarmRule", "Fault", "Telemetry", "read_telemetry", "simulate",
    "write_telemetry",
]

MAX_HOURS = 24 * 14
"""Longest simulation (two weeks: 504,000 rows)."""

_TUNNEL_TO_CAMERA_MIN = 12  # tunnel exit -> camera: transfer conveyor
_FORMER_TO_CAMERA_MIN = 20  # moulder -> oven -> tunnel -> camera
_OVEN_TO_CAMERA_MIN = 15
_MIX_CYCLE_MIN, _MIX_MIXING_MIN = 15, 11

_NOISE = {  # standard deviation of each sensor's AR(1) noise, in its unit
    "dough_temp_c": 0.15, "motor_current_a": 1.2, "bowl_speed_rpm": 0.2, "forming_pressure_bar": 0.05,
    "belt_speed_m_min": 0.03, "hopper_level_pct": 1.0, "hydraulic_oil_temp_c": 0.2, "zone1_temp_c": 0.8,
    "zone2_temp_c": 0.8, "zone3_temp_c": 0.8, "band_speed_m_min": 0.03, "drive_current_a": 0.3,
    "air_temp_c": 0.25, "product_exit_temp_c": 0.2, "suction_pressure_bar": 0.04, "reject_rate_pct": 0.0,
    "broken_reject_pct": 0.05, "colour_reject_pct": 0.05, "size_reject_pct": 0.05, "image_contrast_pct": 0.6,
    "throughput_per_min": 15.0, "packs_per_min": 1.0, "seal_jaw_temp_c": 0.6, "film_tension_n": 0.5,
}


@dataclass(frozen=True)
class Fault:
    """A fault the simulator can inject."""

    name: str
    device: str
    """Where it starts (its effects may show on other machines)."""
    summary: str
    codes: tuple[str, ...]
    """Alarms it raises as it develops, in the order they usually appear."""


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("tunnel_temp_drift", "tunnel-1",
          "Cooling-tunnel air temperature drifts up (evaporator icing); biscuits leave warm and soft, and "
          "broken-biscuit rejects rise at the camera about an hour later.",
          ("TUN-231", "TUN-240", "CAM-412", "TUN-215")),
    Fault("former_pressure_loss", "former-1",
          "A hydraulic leak bleeds forming pressure away; thin, misshapen biscuits raise size rejects at the camera.",
          ("FRM-107", "CAM-418")),
    Fault("camera_lens_fouling", "camera-1",
          "Flour dust fouls the camera's lens window; image contrast falls and good biscuits are rejected "
          "for colour and size (false rejects; upstream sensors stay normal).", ("CAM-305", "CAM-420")),
    Fault("belt_slip", "oven-1",
          "The oven band slips on a glazed drive drum, more and more often; the band speed dips, the drive current "
          "jumps, and over-baked biscuits raise colour rejects.", ("OVN-520", "CAM-420")),
)}
"""Injectable faults by name."""


@dataclass(frozen=True)
class AlarmRule:
    """A threshold that raises a fault code."""

    code: str
    sensor: str
    above: float | None = None
    below: float | None = None


ALARM_RULES: tuple[AlarmRule, ...] = (
    AlarmRule("MIX-011", "dough_temp_c", above=28.0),
    AlarmRule("FRM-101", "hopper_level_pct", below=20.0),
    AlarmRule("FRM-107", "forming_pressure_bar", below=4.5),
    AlarmRule("FRM-112", "hydraulic_oil_temp_c", above=65.0),
    AlarmRule("OVN-514", "zone2_temp_c", above=255.0, below=235.0),
    AlarmRule("OVN-520", "band_speed_m_min", below=10.7),
    AlarmRule("TUN-215", "suction_pressure_bar", below=2.5),
    AlarmRule("TUN-231", "air_temp_c", above=13.0),
    AlarmRule("TUN-240", "product_exit_temp_c", above=30.0),
    AlarmRule("CAM-305", "image_contrast_pct", below=70.0),
    AlarmRule("CAM-412", "broken_reject_pct", above=2.0),
    AlarmRule("CAM-418", "size_reject_pct", above=2.0),
    AlarmRule("CAM-420", "colour_reject_pct", above=2.0),
    AlarmRule("WRP-612", "seal_jaw_temp_c", above=180.0, below=150.0),
)
"""Alarm thresholds (the device is the fault code's); raised after 2 minutes outside, cleared after 5 inside."""


@dataclass(frozen=True)
class Alarm:
    """One alarm: raised at a minute, cleared later or still active (``cleared`` None)."""

    device: str
    code: str
    severity: str
    message: str
    raised: datetime
    cleared: datetime | None


Series = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Telemetry:
    """Simulated (or read back) telemetry: every sensor of every device, once a minute."""

    start: datetime
    minutes: int
    values: Mapping[str, Mapping[str, np.ndarray]]
    """device id -> sensor name -> ``minutes`` values."""
    alarms: tuple[Alarm, ...]
    faults: tuple[str, ...] = ()
    onset: int | None = None
    """Minute the faults start (None without faults)."""
    seed: int = 0

    @property
    def end(self) -> datetime:
        """The minute after the last reading ("now" for the tools)."""
        return self.start + timedelta(minutes=self.minutes)

    def time(self, index: int) -> datetime:
        """Timestamp of reading ``index``."""
        return self.start + timedelta(minutes=index)

    def series(self, device_id: str, sensor: str) -> np.ndarray:
        """One sensor's readings; raises :class:`FactoryError` for an unknown device or sensor."""
        device(device_id).sensor(sensor)
        return self.values[device_id][sensor]


def simulate(hours: float, faults: Iterable[str] = (), *, seed: int = 0, onset: int | None = None,
             start: datetime | None = None) -> Telemetry:
    """Simulate line 1 for ``hours`` at one reading a minute.

    Args:
        hours: length of the run (1 minute to :data:`MAX_HOURS`).
        faults: names from :data:`FAULTS` to inject (none: normal running).
        seed: the same seed gives identical numbers.
        onset: minute the faults start; default a quarter of the way in.
        start: time of the first reading; default 06:00 on :data:`~fathom.domains.factory.plant.PLANT_DATE`.

    Raises:
        FactoryError: an unknown fault name (lists the valid ones), ``hours`` or ``onset`` out of range.
    """
    names = tuple(dict.fromkeys(faults))
    minutes = _check(hours, names, onset)
    onset = (minutes // 4 if onset is None else onset) if names else None
    t = np.arange(minutes, dtype=float)
    elapsed = np.maximum(0.0, t - onset) if onset is not None else np.zeros(minutes)
    values = _normal(minutes, seed)
    for name in names:
        _EFFECTS[name](values, elapsed, np.random.default_rng(np.random.SeedSequence([seed, _tag(name)])))
    _camera_totals(values)
    for device_id, sensors in values.items():
        for s in device(device_id).sensors:
            sensors[s.name] = np.round(np.clip(sensors[s.name], s.low, s.high), 2)
    begin = start or datetime.combine(PLANT_DATE, time(6, 0))
    return Telemetry(begin, minutes, values, _alarms(values, begin), names, onset, seed)


def _check(hours: float, names: tuple[str, ...], onset: int | None) -> int:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        hints = " ".join(h for h in (did_you_mean(n, FAULTS) for n in unknown) if h)
        raise FactoryError(f"Unknown fault {', '.join(map(repr, unknown))}. {hints} "
                           f"Valid faults: {', '.join(FAULTS)}.".replace("  ", " "))
    minutes = round(hours * 60)
    if not 1 <= minutes <= MAX_HOURS * 60:
        raise FactoryError(f"hours={hours:g} is out of range: simulate at least 1 minute (1/60 h) and at most "
                           f"{MAX_HOURS} hours")
    if onset is not None and not 0 <= onset < minutes:
        raise FactoryError(f"onset={onset} is outside the run: faults must start between minute 0 and "
                           f"{minutes - 1} of a {minutes}-minute run")
    return minutes


def _tag(name: str) -> int:
    return zlib.crc32(name.encode())


def _noise(minutes: int, sd: float, rng: np.random.Generator, phi: float = 0.9) -> np.ndarray:
    """AR(1) noise with standard deviation ``sd``: slow wander, not white jitter."""
    shocks = rng.normal(0.0, sd * np.sqrt(1 - phi * phi), minutes)
    out = np.empty(minutes)
    level = rng.normal(0.0, sd)
    for i, shock in enumerate(shocks):
        level = phi * level + shock
        out[i] = level
    return out


def _normal(minutes: int, seed: int) -> Series:
    """Every sensor in normal running (before faults)."""
    values: Series = {}
    for d in DEVICES:
        values[d.id] = {}
        for s in d.sensors:
            rng = np.random.default_rng(np.random.SeedSequence([seed, _tag(f"{d.id}/{s.name}")]))
            values[d.id][s.name] = s.nominal + _noise(minutes, _NOISE[s.name], rng)
    _batches(values, np.arange(minutes))
    return values


def _batches(values: Series, t: np.ndarray) -> None:
    """The mixer's 15-minute batch cycle and the moulder hopper it feeds."""
    phase = t % _MIX_CYCLE_MIN
    mixing = phase < _MIX_MIXING_MIN
    progress = np.where(mixing, phase / _MIX_MIXING_MIN, 1.0)
    mixer = values["mixer-1"]
    mixer["dough_temp_c"] += np.where(mixing, -3.0 + 4.0 * progress, 1.0 - 0.3 * (phase - _MIX_MIXING_MIN))
    mixer["motor_current_a"] = np.where(mixing, mixer["motor_current_a"] - 4 + 9 * progress, 4.0)
    mixer["bowl_speed_rpm"] = np.where(mixing, mixer["bowl_speed_rpm"], 0.0)
    values["former-1"]["hopper_level_pct"] += 15.0 - 30.0 * (phase / _MIX_CYCLE_MIN)


def _lagged(x: np.ndarray, minutes: int, fill: float) -> np.ndarray:
    """``x`` delayed by ``minutes`` (product travelling between machines)."""
    return np.concatenate([np.full(minutes, fill), x[:-minutes]])[: len(x)] if minutes else x


def _first_order(x: np.ndarray, tau: float) -> np.ndarray:
    """``x`` through a first-order lag of time constant ``tau`` minutes (thermal mass)."""
    out, level, alpha = np.empty_like(x), x[0], 1.0 / tau
    for i, v in enumerate(x):
        level += alpha * (v - level)
        out[i] = level
    return out


def _tunnel_temp_drift(values: Series, m: np.ndarray, rng: np.random.Generator) -> None:
    tunnel, camera = values["tunnel-1"], values["camera-1"]
    drift = np.minimum(0.12 * m, 16.0)
    tunnel["air_temp_c"] += drift
    tunnel["suction_pressure_bar"] -= 0.05 * drift  # an icing coil starves the compressor
    exit_temp = _first_order(25.0 + 0.7 * drift, tau=8.0) + (tunnel["product_exit_temp_c"] - 25.0)
    tunnel["product_exit_temp_c"] = exit_temp
    warm = np.maximum(0.0, _lagged(exit_temp, _TUNNEL_TO_CAMERA_MIN, 25.0) - 27.5)
    camera["broken_reject_pct"] += 0.9 * warm * (1 + 0.1 * rng.standard_normal(len(m)))


def _former_pressure_loss(values: Series, m: np.ndarray, rng: np.random.Generator) -> None:
    former, camera = values["former-1"], values["camera-1"]
    leak = np.where(m > 0, 1.0 - np.exp(-m / 40.0), 0.0)
    former["forming_pressure_bar"] -= 2.3 * leak
    former["hydraulic_oil_temp_c"] += 6.0 * leak  # the pump works harder to hold pressure
    pressure = _lagged(former["forming_pressure_bar"], _FORMER_TO_CAMERA_MIN, 6.0)
    camera["size_reject_pct"] += 1.4 * np.maximum(0.0, 5.3 - pressure) * (1 + 0.1 * rng.standard_normal(len(m)))


def _camera_lens_fouling(values: Series, m: np.ndarray, rng: np.random.Generator) -> None:
    camera = values["camera-1"]
    camera["image_contrast_pct"] -= np.minimum(0.25 * m, 40.0)
    blur = np.maximum(0.0, 80.0 - camera["image_contrast_pct"])
    camera["colour_reject_pct"] += 0.12 * blur * (1 + 0.1 * rng.standard_normal(len(m)))
    camera["size_reject_pct"] += 0.04 * blur


def _belt_slip(values: Series, m: np.ndarray, rng: np.random.Generator) -> None:
    oven, camera = values["oven-1"], values["camera-1"]
    chance = np.where(m > 0, np.minimum(0.6, 0.01 * m), 0.0)  # slips come more often as the drum glazes
    slip = np.where(rng.random(len(m)) < chance, rng.uniform(0.08, 0.25, len(m)), 0.0)
    oven["band_speed_m_min"] *= 1.0 - slip
    oven["drive_current_a"] += 40.0 * slip  # the drive surges as the band catches again
    dwell = np.convolve(slip, np.ones(8) / 8, mode="full")[: len(m)]  # a slow band bakes longer
    camera["colour_reject_pct"] += 20.0 * _lagged(dwell, _OVEN_TO_CAMERA_MIN, 0.0)
    camera["throughput_per_min"] *= 1.0 - _lagged(slip, _OVEN_TO_CAMERA_MIN, 0.0)


_EFFECTS: dict[str, Callable[[Series, np.ndarray, np.random.Generator], None]] = {
    "tunnel_temp_drift": _tunnel_temp_drift, "former_pressure_loss": _former_pressure_loss,
    "camera_lens_fouling": _camera_lens_fouling, "belt_slip": _belt_slip,
}


def _camera_totals(values: Series) -> None:
    camera = values["camera-1"]
    for part in ("broken_reject_pct", "colour_reject_pct", "size_reject_pct"):
        camera[part] = np.maximum(camera[part], 0.0)
    camera["reject_rate_pct"] = (camera["broken_reject_pct"] + camera["colour_reject_pct"]
                                 + camera["size_reject_pct"] + 0.1)


def _alarms(values: Series, start: datetime) -> tuple[Alarm, ...]:
    found = []
    for rule in ALARM_RULES:
        fault = fault_code(rule.code)
        x = values[fault.device][rule.sensor]
        outside = np.zeros(len(x), dtype=bool)
        if rule.above is not None:
            outside |= x > rule.above
        if rule.below is not None:
            outside |= x < rule.below
        for raised, cleared in _intervals(outside):
            found.append(Alarm(fault.device, fault.code, fault.severity, fault.meaning,
                               start + timedelta(minutes=raised),
                               None if cleared is None else start + timedelta(minutes=cleared)))
    return tuple(sorted(found, key=lambda a: (a.raised, a.device, a.code)))


def _intervals(outside: np.ndarray, raise_after: int = 2, clear_after: int = 5) -> list[tuple[int, int | None]]:
    """(raised minute, cleared minute or None) for each stretch outside the limits, with hysteresis."""
    intervals: list[tuple[int, int | None]] = []
    raised: int | None = None
    run_out = run_in = 0
    for i, out in enumerate(outside):
        run_out, run_in = (run_out + 1, 0) if out else (0, run_in + 1)
        if raised is None and run_out == raise_after:
            raised = i - raise_after + 1
        elif raised is not None and run_in == clear_after:
            intervals.append((raised, i - clear_after + 1))
            raised = None
    if raised is not None:
        intervals.append((raised, None))
    return intervals


# --------------------------------------------------------------------------- files

_FIELDS = ("timestamp", "device", "sensor", "unit", "value")
_ALARM_FIELDS = ("raised", "cleared", "device", "code", "severity", "message")
_STAMP = "%Y-%m-%dT%H:%M"


def write_telemetry(telemetry: Telemetry, out: str | os.PathLike[str]) -> Path:
    """Write ``telemetry.csv``, ``alarms.csv`` and ``simulation.json`` into the folder ``out``.

    The files appear together (written aside, then moved in); other files in ``out`` are kept.

    Raises:
        OutputError: ``out`` exists and is not a folder.
    """
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise OutputError(f"--out {target} is a file; telemetry is written into a folder: give a folder path")
    with atomic_dir(target, exists="merge") as tmp:
        with open(tmp / "telemetry.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(_FIELDS)
            columns = [(d.id, s, telemetry.values[d.id][s.name]) for d in DEVICES for s in d.sensors]
            for i in range(telemetry.minutes):
                stamp = telemetry.time(i).strftime(_STAMP)
                writer.writerows((stamp, dev, s.name, s.unit, f"{x[i]:.2f}") for dev, s, x in columns)
        with open(tmp / "alarms.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(_ALARM_FIELDS)
            writer.writerows((a.raised.strftime(_STAMP), a.cleared.strftime(_STAMP) if a.cleared else "", a.device,
                              a.code, a.severity, a.message) for a in telemetry.alarms)
        manifest = {"start": telemetry.start.strftime(_STAMP), "minutes": telemetry.minutes, "seed": telemetry.seed,
                    "faults": list(telemetry.faults), "onset": telemetry.onset}
        (tmp / "simulation.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return target


def read_telemetry(folder: str | os.PathLike[str]) -> Telemetry:
    """Read a folder written by :func:`write_telemetry` back.

    Raises:
        DataError: a file is missing or malformed (every problem listed, with its line).
    """
    root = Path(folder)
    missing = [name for name in ("simulation.json", "telemetry.csv", "alarms.csv") if not (root / name).is_file()]
    if missing:
        raise DataError([Problem(str(root / name), "missing; write the folder with `fathom factory simulate`")
                         for name in missing], title="not a telemetry folder")
    manifest = json.loads((root / "simulation.json").read_text("utf-8"))
    start, minutes = datetime.strptime(manifest["start"], _STAMP), int(manifest["minutes"])
    values: Series = {d.id: {s.name: np.full(minutes, np.nan) for s in d.sensors} for d in DEVICES}
    problems = _read_readings(root / "telemetry.csv", start, minutes, values)
    for d in DEVICES:
        for s in d.sensors:
            gaps = int(np.isnan(values[d.id][s.name]).sum())
            if gaps and len(problems) < 20:
                problems.append(Problem(f"{root / 'telemetry.csv'}", f"{d.id}/{s.name}: {gaps} of {minutes} "
                                                                       f"minutes have no reading"))
    if problems:
        raise DataError(problems, title=f"malformed telemetry in {root}")
    with open(root / "alarms.csv", newline="", encoding="utf-8") as fh:
        alarms = tuple(Alarm(r["device"], r["code"], r["severity"], r["message"],
                             datetime.strptime(r["raised"], _STAMP),
                             datetime.strptime(r["cleared"], _STAMP) if r["cleared"] else None)
                       for r in csv.DictReader(fh))
    return Telemetry(start, minutes, values, alarms, tuple(manifest["faults"]), manifest["onset"],
                     int(manifest["seed"]))


def _read_readings(path: Path, start: datetime, minutes: int, values: Series) -> list[Problem]:
    problems: list[Problem] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if len(problems) >= 20:
                break
            try:
                index = int((datetime.strptime(row["timestamp"], _STAMP) - start).total_seconds() // 60)
                series = values[row["device"]][row["sensor"]]
                if not 0 <= index < minutes:
                    raise ValueError(f"timestamp {row['timestamp']} is outside the run")
                series[index] = float(row["value"])
            except (KeyError, ValueError, TypeError) as exc:
                problems.append(Problem(f"{path}:{line}", f"{exc} (expected columns {', '.join(_FIELDS)} with a "
                                                          f"known device and sensor)"))
    return problems
