"""The maintenance agent's five tools over a simulated plant: what they return and how they refuse."""

from __future__ import annotations

import json

import jsonschema
import pytest

from fathom.agent import ToolArgumentError, ToolError
from fathom.domains.factory import TOOL_NAMES, FactoryToolError, Plant, UnknownDeviceError, plant_tools, tool_schemas


def test_the_registry_has_the_five_stable_tools(normal_plant: Plant) -> None:
    registry = plant_tools(normal_plant)
    assert registry.names() == list(TOOL_NAMES) == [
        "list_devices", "get_telemetry", "search_manuals", "get_maintenance_log", "create_work_order"]
    schemas = {s["function"]["name"]: s["function"]["parameters"] for s in tool_schemas()}
    for params in schemas.values():
        jsonschema.Draft202012Validator.check_schema(params)
    assert schemas["get_telemetry"]["required"] == ["device"]
    assert schemas["create_work_order"]["required"] == ["device", "priority", "summary"]
    assert schemas["create_work_order"]["properties"]["priority"]["enum"] == ["low", "medium", "high", "urgent"]
    assert schemas["list_devices"]["properties"] == {}


def test_list_devices_shows_alarms(normal_plant: Plant, drift_plant: Plant) -> None:
    assert {d["status"] for d in plant_tools(normal_plant).call("list_devices")} == {"running"}
    devices = {d["id"]: d for d in plant_tools(drift_plant).call("list_devices")}
    assert list(devices) == ["mixer-1", "former-1", "oven-1", "tunnel-1", "camera-1", "wrapper-1"]
    assert devices["tunnel-1"]["status"] == "alarm" and "TUN-231" in devices["tunnel-1"]["active_alarms"]
    assert devices["camera-1"]["active_alarms"] == ["CAM-412"] and devices["oven-1"]["status"] == "running"
    assert devices["former-1"]["vendor"] == "Kessler Formtechnik" and devices["former-1"]["model"] == "RM-850"


def test_get_telemetry_summarises_the_window(drift_plant: Plant) -> None:
    registry = plant_tools(drift_plant)
    out = registry.call("get_telemetry", {"device": "tunnel-1", "minutes": 30, "sensor": "air_temp_c"})
    x = drift_plant.telemetry.series("tunnel-1", "air_temp_c")[-30:]
    air = out["sensors"]["air_temp_c"]
    assert list(out["sensors"]) == ["air_temp_c"] and out["minutes"] == 30
    assert (out["from"], out["to"]) == ("2026-03-02T11:30", "2026-03-02T12:00")
    assert (air["latest"], air["min"], air["max"], air["unit"]) == (x[-1], x.min(), x.max(), "°C")
    assert len(air["samples"]) == 12 and air["samples"][0] == ["11:30", x[0]] and air["samples"][-1][1] == x[-1]
    assert {a["code"] for a in out["alarms"]} >= {"TUN-231"} and all(a["cleared"] is None for a in out["alarms"])
    everything = registry.call("get_telemetry", {"device": "tunnel-1"})
    assert list(everything["sensors"]) == ["air_temp_c", "product_exit_temp_c", "suction_pressure_bar",
                                           "belt_speed_m_min"] and everything["minutes"] == 60
    assert json.loads(json.dumps(everything)) == everything  # plain JSON for the tool message


def test_get_telemetry_with_less_history_than_asked() -> None:
    out = plant_tools(Plant.simulated(hours=0.5)).call("get_telemetry", {"device": "oven-1", "minutes": 120})
    assert out["minutes"] == 30 and out["note"] == "only 30 minutes of history exist"


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("get_telemetry", {"device": "tunnel-2"}, "Unknown device 'tunnel-2'. Did you mean 'tunnel-1'? Valid devices: "
                                              "mixer-1, former-1, oven-1, tunnel-1, camera-1, wrapper-1."),
    ("get_telemetry", {"device": "oven-1", "minutes": 0}, "minutes=0 is out of range; use 1 to 1440"),
    ("get_telemetry", {"device": "oven-1", "minutes": 1441}, "minutes=1441 is out of range; use 1 to 1440"),
    ("get_telemetry", {"device": "tunnel-1", "sensor": "air_temp"},
     "Device 'tunnel-1' has no sensor 'air_temp'. Did you mean 'air_temp_c'? Its sensors: air_temp_c, "
     "product_exit_temp_c, suction_pressure_bar, belt_speed_m_min."),
    ("get_maintenance_log", {"device": "oven-1", "days": 366}, "days=366 is out of range; use 1 to 365"),
    ("get_maintenance_log", {"device": "Oven"}, "Unknown device 'Oven'."),
    ("search_manuals", {"query": "  "}, "query is empty"),
    ("search_manuals", {"query": "band", "device": "oven"}, "Unknown device 'oven'."),
    ("create_work_order", {"device": "oven-1", "priority": "low", "summary": "x"}, "summary has 1 characters"),
])
def test_bad_inputs_are_tool_errors_naming_what_is_valid(normal_plant: Plant, tool: str, arguments: dict[str, object],
                                                         expected: str) -> None:
    with pytest.raises(FactoryToolError) as info:
        plant_tools(normal_plant).call(tool, arguments)
    assert expected in str(info.value) and isinstance(info.value, ToolError)


def test_an_unknown_device_is_also_an_unknown_device_error(normal_plant: Plant) -> None:
    with pytest.raises(UnknownDeviceError):
        plant_tools(normal_plant).call("get_maintenance_log", {"device": "press-1"})


def test_search_manuals_finds_codes_and_symptoms(normal_plant: Plant) -> None:
    registry = plant_tools(normal_plant)
    hits = registry.call("search_manuals", {"query": "TUN-231"})["results"]
    assert len(hits) == 3 and all("TUN-231" in h["text"] for h in hits)
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"] > 0
    assert {h["source"] for h in hits} <= {"fault_codes.csv", "tunnel-1_manual.txt"}
    slip = registry.call("search_manuals", {"query": "band slipping on the drive drum"})["results"]
    assert slip[0]["device"] == "oven-1"
    only = registry.call("search_manuals", {"query": "lens window clean", "device": "camera-1"})["results"]
    assert only and all(h["device"] == "camera-1" for h in only)
    assert registry.call("search_manuals", {"query": "zzzz qqqq"})["results"] == []
    loto = registry.call("search_manuals", {"query": "lockout-tagout"})["results"]
    assert loto[0]["source"] == "site_safety.txt"


def test_get_maintenance_log_filters_by_device_and_days(normal_plant: Plant) -> None:
    out = plant_tools(normal_plant).call("get_maintenance_log", {"device": "tunnel-1", "days": 30})
    dates = [e["date"] for e in out["entries"]]
    assert dates == sorted(dates, reverse=True) and dates[-1] >= "2026-01-31"
    assert [e["code"] for e in out["entries"] if e["type"] == "corrective"] == ["TUN-231", "TUN-231"]
    week = plant_tools(normal_plant).call("get_maintenance_log", {"device": "camera-1", "days": 7})["entries"]
    assert any("lens window" in e["work"] for e in week)


def test_create_work_order_records_orders(normal_plant: Plant) -> None:
    registry = plant_tools(normal_plant)
    first = registry.call("create_work_order", '{"device": "tunnel-1", "priority": "high", '
                                               '"summary": "TUN-231 on tunnel-1:   coil icing"}')
    second = registry.call("create_work_order", {"device": "camera-1", "priority": "low", "summary": "Clean the lens"})
    assert first == {"id": "WO-0001", "device": "tunnel-1", "priority": "high",
                     "summary": "TUN-231 on tunnel-1: coil icing", "created": "2026-03-02T12:00", "status": "open"}
    assert second["id"] == "WO-0002" and [w.id for w in normal_plant.work_orders] == ["WO-0001", "WO-0002"]
    with pytest.raises(ToolArgumentError, match="'asap' is not one of"):
        registry.call("create_work_order", {"device": "camera-1", "priority": "asap", "summary": "Clean the lens"})
    assert len(normal_plant.work_orders) == 2
