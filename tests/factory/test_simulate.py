"""The line simulator: seeded, physically plausible, faults that do what their docs say, CSV round trip."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import fathom.domains.factory as factory
from fathom.domains.factory import DEVICES, FAULTS, FactoryError, read_telemetry, simulate, write_telemetry
from fathom.domains.factory.simulator import ALARM_RULES
from fathom.errors import DataError, OutputError


def test_public_face_is_pinned() -> None:
    assert sorted(factory.__all__) == [
        "Alarm", "CATEGORIES", "Category", "DEVICES", "Device", "Document", "FAMILIES", "FAULTS", "FAULT_CODES",
        "FactoryError", "FactoryTemplateTeacher", "FactoryToolError", "Fault", "FaultCode", "LogEntry", "PLANT_DATE",
        "PREVENTIVE", "PRIORITIES", "Passage", "Plant", "PlantTools", "Sensor", "TOOL_NAMES", "Telemetry",
        "UnknownDeviceError", "WorkOrder", "categories_data", "device", "documents", "fault_code", "heldout_families",
        "maintenance_log", "passages", "plant_tools", "plugin", "read_telemetry", "simulate", "tool_schemas",
        "write_categories", "write_documents", "write_telemetry"]


def _same(a: factory.Telemetry, b: factory.Telemetry) -> bool:
    return all(np.array_equal(a.values[d.id][s.name], b.values[d.id][s.name]) for d in DEVICES for s in d.sensors) \
        and a.alarms == b.alarms


def test_the_same_seed_gives_the_same_telemetry_and_another_seed_does_not() -> None:
    a = simulate(3, ["belt_slip"], seed=7)
    assert _same(a, simulate(3, ["belt_slip"], seed=7))
    assert not _same(a, simulate(3, ["belt_slip"], seed=8))


def test_every_device_and_sensor_has_one_reading_a_minute() -> None:
    t = simulate(2.5)
    assert t.minutes == 150 and t.end - t.start == t.time(150) - t.time(0)
    assert {d.id for d in DEVICES} == set(t.values)
    assert all(len(t.values[d.id][s.name]) == 150 for d in DEVICES for s in d.sensors)


@pytest.mark.parametrize("fault", [None, *FAULTS])
def test_readings_stay_physically_plausible(fault: str | None) -> None:
    t = simulate(24, [fault] if fault else [], seed=1)
    for d in DEVICES:
        for s in d.sensors:
            x = t.values[d.id][s.name]
            assert np.isfinite(x).all() and x.min() >= s.low and x.max() <= s.high, (d.id, s.name)


def test_normal_running_sits_near_nominal_without_alarms() -> None:
    for seed in range(3):
        t = simulate(24, seed=seed)
        assert t.alarms == ()
        for d in DEVICES:
            for s in d.sensors:
                x = t.values[d.id][s.name]
                if s.name not in ("bowl_speed_rpm", "motor_current_a", "dough_temp_c", "hopper_level_pct"):
                    assert abs(x.mean() - s.nominal) <= max(0.05 * abs(s.nominal), 0.15), (d.id, s.name, x.mean())
        mixer = t.values["mixer-1"]
        assert (mixer["bowl_speed_rpm"] == 0).mean() == pytest.approx(4 / 15, abs=0.01)  # tipping 4 of 15 minutes
        assert mixer["dough_temp_c"].min() > 21.5 and mixer["dough_temp_c"].max() < 28  # MIX-011 is at 28 °C


def test_tunnel_drift_raises_broken_rejects_after_a_lag() -> None:
    onset = 60
    normal, drift = simulate(6, seed=2), simulate(6, ["tunnel_temp_drift"], seed=2, onset=onset)
    air = drift.values["tunnel-1"]["air_temp_c"]
    broken, baseline = drift.values["camera-1"]["broken_reject_pct"], normal.values["camera-1"]["broken_reject_pct"]
    assert np.array_equal(broken[: onset + 12], baseline[: onset + 12])  # the camera has not seen warm product yet
    assert air[onset - 10: onset].mean() < 11 and air[-30:].mean() > 20  # the tunnel warmed up
    assert baseline[-60:].mean() < 0.5 and broken[-60:].mean() > 4 * baseline[-60:].mean() + 1
    first_rise = int(np.argmax(broken > baseline + 0.5))
    assert first_rise > onset + 12  # rejects follow the tunnel, later
    codes = [a.code for a in drift.alarms]
    assert codes.index("TUN-231") < codes.index("CAM-412")


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_raises_the_alarms_it_documents(name: str) -> None:
    t = simulate(6, [name], seed=0, onset=30)
    raised = {a.code for a in t.alarms}
    assert set(FAULTS[name].codes) <= raised, (name, raised)
    assert all(a.raised >= t.time(30) for a in t.alarms)  # nothing before the fault starts


def test_alarm_rules_name_real_codes_and_sensors() -> None:
    for rule in ALARM_RULES:
        fault = factory.fault_code(rule.code)
        factory.device(fault.device).sensor(rule.sensor)


def test_faults_combine() -> None:
    t = simulate(6, ["former_pressure_loss", "camera_lens_fouling"], seed=0, onset=30)
    assert {"FRM-107", "CAM-305"} <= {a.code for a in t.alarms}
    assert t.faults == ("former_pressure_loss", "camera_lens_fouling") and t.onset == 30


def test_an_unknown_fault_names_the_valid_ones() -> None:
    with pytest.raises(FactoryError) as info:
        simulate(1, ["tunnel_temp_drfit"])
    assert str(info.value) == ("Unknown fault 'tunnel_temp_drfit'. Did you mean 'tunnel_temp_drift'? Valid faults: "
                               "tunnel_temp_drift, former_pressure_loss, camera_lens_fouling, belt_slip.")
    assert info.value.exit_code == 2


@pytest.mark.parametrize(("hours", "onset", "expected"), [
    (0, None, "hours=0 is out of range"), (400, None, "at most 336 hours"), (1, 60, "onset=60 is outside the run"),
])
def test_ranges_are_checked(hours: float, onset: int | None, expected: str) -> None:
    with pytest.raises(FactoryError, match=expected):
        simulate(hours, ["belt_slip"], onset=onset)


def test_files_round_trip(tmp_path: Path) -> None:
    t = simulate(2, ["tunnel_temp_drift"], seed=4, onset=20)
    folder = write_telemetry(t, tmp_path / "run")
    assert sorted(p.name for p in folder.iterdir()) == ["alarms.csv", "simulation.json", "telemetry.csv"]
    with open(folder / "telemetry.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["timestamp", "device", "sensor", "unit", "value"]
    assert len(rows) == 120 * sum(len(d.sensors) for d in DEVICES)
    assert rows[0]["timestamp"] == "2026-03-02T06:00"
    back = read_telemetry(folder)
    assert _same(t, back) and (back.start, back.minutes, back.faults, back.onset, back.seed) == \
        (t.start, t.minutes, t.faults, t.onset, t.seed)


def test_reading_a_broken_folder_lists_the_problems(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"simulation\.json: missing"):
        read_telemetry(tmp_path)
    folder = write_telemetry(simulate(0.1), tmp_path / "run")
    lines = (folder / "telemetry.csv").read_text().splitlines()
    lines[3] = lines[3].replace("mixer-1", "mixer-9")
    (folder / "telemetry.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError) as info:
        read_telemetry(folder)
    text = str(info.value)
    assert "telemetry.csv:4: 'mixer-9'" in text and "minutes have no reading" in text


def test_writing_over_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        write_telemetry(simulate(0.1), tmp_path / "taken")
