"""The biscuit plant: its machines, their sensors and their fault codes (the one home of each).

Line 1 makes biscuits in six steps, each a machine with a stable id (the plant's asset tag)::

    mixer-1 ──► former-1 ──► oven-1 ──► tunnel-1 ──► camera-1 ──► wrapper-1
    dough       rotary        band       cooling       quality       flow
    mixer       moulder       oven       tunnel        camera        wrapper

Everything else in the domain reads these tables: the simulator's sensors and alarms, the manuals'
fault-code sections and the fault-code CSV, the tools' device checks and the teacher's entity search.

Covers: :class:`Device`, :class:`Sensor`, :class:`FaultCode`, :data:`DEVICES`, :data:`FAULT_CODES`,
lookups with precise errors. Not covered: telemetry (:mod:`.simulator`), documents (:mod:`.docs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from fathom.agent import ToolError
from fathom.errors import DomainError, did_you_mean

__all__ = [
    "DEVICES", "FAULT_CODES", "PLANT_DATE", "SEVERITIES", "Device", "FactoryError", "FactoryToolError", "FaultCode",
    "Sensor",
    "Severity", "UnknownDeviceError", "device", "fault_code", "fault_codes_of",
]

PLANT_DATE = date(2026, 3, 2)
"""The plant's default "today": simulations start at 06:00 on it and the maintenance log ends the day before."""

Severity = Literal["minor", "major", "critical"]
SEVERITIES: tuple[Severity, ...] = ("minor", "major", "critical")
"""Fault severities, mildest first: minor (note it), major (act this shift), critical (stop the line)."""


class FactoryError(DomainError):
    """Bad input to the factory domain (an unknown fault name, a range outside what the plant has)."""


class FactoryToolError(FactoryError, ToolError):
    """A tool was called with an input the plant does not have (an agent feeds the message back to the model)."""


class UnknownDeviceError(FactoryToolError):
    """A device id the plant does not have."""


@dataclass(frozen=True)
class Sensor:
    """One measured quantity of a device, sampled once a minute."""

    name: str
    """Column name in telemetry (``air_temp_c``); the unit is its suffix."""
    unit: str
    label: str
    """How manuals and operators say it ("air temperature")."""
    nominal: float
    """Value in normal running."""
    low: float
    high: float
    """Physically possible range; the simulator never leaves it."""


@dataclass(frozen=True)
class Device:
    """One machine on the line."""

    id: str
    name: str
    vendor: str
    model: str
    aliases: tuple[str, ...]
    """Other names documents use for it (model number, what operators call it), most specific first."""
    sensors: tuple[Sensor, ...]

    def sensor(self, name: str) -> Sensor:
        """The sensor called ``name``; raises :class:`FactoryToolError` naming this device's sensors."""
        for s in self.sensors:
            if s.name == name:
                return s
        names = [s.name for s in self.sensors]
        raise FactoryToolError(" ".join(p for p in (f"Device {self.id!r} has no sensor {name!r}.",
                                                did_you_mean(name, names), f"Its sensors: {', '.join(names)}.") if p))


@dataclass(frozen=True)
class FaultCode:
    """One alarm a device can raise, as its vendor documents it."""

    code: str
    device: str
    meaning: str
    severity: Severity
    action: str
    """First thing to do (the manuals have the full procedure)."""


def _sensors(*rows: tuple[str, str, str, float, float, float]) -> tuple[Sensor, ...]:
    return tuple(Sensor(*row) for row in rows)


DEVICES: tuple[Device, ...] = (
    Device("mixer-1", "Dough mixer", "Hartwell Mixing Systems", "HMX-600",
           ("HMX-600", "Hartwell mixer", "dough mixer", "mixer"),
           _sensors(("dough_temp_c", "°C", "dough temperature", 25.5, 10.0, 45.0),
                    ("motor_current_a", "A", "motor current", 48.0, 0.0, 120.0),
                    ("bowl_speed_rpm", "rpm", "bowl speed", 32.0, 0.0, 60.0))),
    Device("former-1", "Rotary moulder", "Kessler Formtechnik", "RM-850",
           ("RM-850", "Kessler moulder", "rotary moulder", "forming machine", "moulder"),
           _sensors(("forming_pressure_bar", "bar", "forming pressure", 6.0, 0.0, 10.0),
                    ("belt_speed_m_min", "m/min", "belt speed", 11.5, 0.0, 20.0),
                    ("hopper_level_pct", "%", "hopper level", 65.0, 0.0, 100.0),
                    ("hydraulic_oil_temp_c", "°C", "hydraulic oil temperature", 44.0, 10.0, 90.0))),
    Device("oven-1", "Band oven", "Thermaline Ovens", "TL-40",
           ("TL-40", "Thermaline oven", "band oven", "oven"),
           _sensors(("zone1_temp_c", "°C", "zone 1 temperature", 225.0, 20.0, 320.0),
                    ("zone2_temp_c", "°C", "zone 2 temperature", 245.0, 20.0, 320.0),
                    ("zone3_temp_c", "°C", "zone 3 temperature", 210.0, 20.0, 320.0),
                    ("band_speed_m_min", "m/min", "band speed", 11.5, 0.0, 20.0),
                    ("drive_current_a", "A", "drive current", 14.0, 0.0, 40.0))),
    Device("tunnel-1", "Cooling tunnel", "Nordkyl Refrigeration", "CT-24",
           ("CT-24", "Nordkyl tunnel", "cooling tunnel", "freezing tunnel", "tunnel"),
           _sensors(("air_temp_c", "°C", "air temperature", 10.0, -10.0, 40.0),
                    ("product_exit_temp_c", "°C", "product exit temperature", 25.0, 0.0, 70.0),
                    ("suction_pressure_bar", "bar", "suction pressure", 3.2, 0.0, 12.0),
                    ("belt_speed_m_min", "m/min", "belt speed", 11.5, 0.0, 20.0))),
    Device("camera-1", "Quality-inspection camera", "Optivance Vision", "QX-3",
           ("QX-3", "Optivance camera", "inspection camera", "vision system", "camera"),
           _sensors(("reject_rate_pct", "%", "reject rate", 0.9, 0.0, 100.0),
                    ("broken_reject_pct", "%", "broken-biscuit rejects", 0.3, 0.0, 100.0),
                    ("colour_reject_pct", "%", "colour rejects", 0.25, 0.0, 100.0),
                    ("size_reject_pct", "%", "size rejects", 0.25, 0.0, 100.0),
                    ("image_contrast_pct", "%", "image contrast", 92.0, 0.0, 100.0),
                    ("throughput_per_min", "1/min", "throughput", 2400.0, 0.0, 4000.0))),
    Device("wrapper-1", "Flow wrapper", "Pakwell Packaging", "FW-300",
           ("FW-300", "Pakwell wrapper", "flow wrapper", "wrapper"),
           _sensors(("packs_per_min", "1/min", "pack rate", 110.0, 0.0, 200.0),
                    ("seal_jaw_temp_c", "°C", "seal jaw temperature", 165.0, 20.0, 240.0),
                    ("film_tension_n", "N", "film tension", 28.0, 0.0, 80.0))),
)
"""Every machine on line 1, in the order the product passes them."""

FAULT_CODES: tuple[FaultCode, ...] = (
    FaultCode("MIX-011", "mixer-1", "Dough temperature at discharge above 28 °C", "major",
              "Check chilled-water supply to the bowl jacket and the ice/water ratio of the recipe."),
    FaultCode("MIX-024", "mixer-1", "Main motor overcurrent", "critical",
              "Stop the batch; check for an overfilled bowl or stiff dough before restarting."),
    FaultCode("MIX-032", "mixer-1", "Bowl door interlock open", "critical",
              "Close the bowl door; never bridge the interlock switch."),
    FaultCode("MIX-045", "mixer-1", "Water meter flow deviation", "minor",
              "Verify the water meter calibration against a weighed dose."),
    FaultCode("FRM-101", "former-1", "Hopper level low", "minor",
              "Call the next dough batch from the mixer; check the hopper level probe."),
    FaultCode("FRM-107", "former-1", "Forming pressure below 4.5 bar", "major",
              "Inspect the hydraulic circuit for leaks and the pressure relief valve setting."),
    FaultCode("FRM-112", "former-1", "Hydraulic oil over-temperature (above 65 °C)", "major",
              "Check the oil cooler fan and the oil level; reduce speed until the oil cools."),
    FaultCode("FRM-118", "former-1", "Scraper blade position fault", "minor",
              "Re-seat the scraper blade and check its pneumatic pressure."),
    FaultCode("FRM-130", "former-1", "Guard door open or light curtain interrupted", "critical",
              "Clear the light curtain and close the guard; reset at the operator panel."),
    FaultCode("OVN-501", "oven-1", "Burner flame failure", "critical",
              "The burner management system has locked out; call a gas-qualified engineer."),
    FaultCode("OVN-514", "oven-1", "Zone temperature deviation more than 10 °C from setpoint", "major",
              "Check the burner modulation and the zone thermocouple."),
    FaultCode("OVN-520", "oven-1", "Band speed deviation (band slip)", "major",
              "Check band tension and the drive drum lagging for wear or grease."),
    FaultCode("OVN-533", "oven-1", "Band tracking off-centre", "minor",
              "Adjust the tracking rollers at the oven outfeed."),
    FaultCode("TUN-201", "tunnel-1", "Evaporator defrost overrun", "minor",
              "Check the defrost termination sensor and heater contactor."),
    FaultCode("TUN-215", "tunnel-1", "Refrigerant suction pressure low", "major",
              "Suspect low refrigerant charge or an iced evaporator; call an F-gas certified technician."),
    FaultCode("TUN-231", "tunnel-1", "Air temperature above setpoint band (setpoint + 3 °C)", "major",
              "Check evaporator fans, coil icing and the door curtains; verify the compressor is loading."),
    FaultCode("TUN-240", "tunnel-1", "Product exit temperature above 30 °C", "critical",
              "Product is leaving too warm to pack: slow the line or hold product until the tunnel recovers."),
    FaultCode("TUN-252", "tunnel-1", "Evaporator fan motor trip", "major",
              "Reset the fan overload once; if it trips again, isolate and check the fan motor."),
    FaultCode("CAM-301", "camera-1", "Illumination intensity low", "minor",
              "Check the LED bar light and its driver; replace the bar if intensity stays low."),
    FaultCode("CAM-305", "camera-1", "Image contrast low (lens or window fouled)", "major",
              "Clean the lens window with the approved lint-free wipe, then run the test tile."),
    FaultCode("CAM-412", "camera-1", "Broken-product reject rate above 2 %", "major",
              "Check product temperature and transfers upstream; broken biscuits are usually made before the camera."),
    FaultCode("CAM-418", "camera-1", "Size/shape reject rate above 2 %", "major",
              "Check forming pressure and dough consistency at the moulder."),
    FaultCode("CAM-420", "camera-1", "Colour reject rate above 2 %", "major",
              "Check oven zone temperatures and band speed; then check the camera's colour calibration."),
    FaultCode("CAM-450", "camera-1", "Reject air-jet pressure low", "major",
              "Check the compressed-air supply and the air-jet filter."),
    FaultCode("WRP-601", "wrapper-1", "Film reel end or splice", "minor",
              "Load a new reel and splice it at the splice table."),
    FaultCode("WRP-612", "wrapper-1", "Seal jaw temperature out of range", "major",
              "Check the jaw heater and thermocouple; hold packs sealed during the deviation."),
    FaultCode("WRP-618", "wrapper-1", "Film registration error", "minor",
              "Clean the registration eye and check the print mark contrast."),
    FaultCode("WRP-625", "wrapper-1", "Product in jaws (jam)", "critical",
              "Stop, isolate and lock out before clearing product from the jaws."),
)
"""Every fault code on the line; the manuals and ``fault_codes.csv`` render from this table."""

_BY_ID = {d.id: d for d in DEVICES}
_BY_CODE = {f.code: f for f in FAULT_CODES}


def device(device_id: str) -> Device:
    """The device with this id.

    Raises:
        UnknownDeviceError: no such device (did-you-mean and every valid id).

    >>> device("tunnel-1").model
    'CT-24'
    """
    found = _BY_ID.get(device_id)
    if found is None:
        raise UnknownDeviceError(" ".join(p for p in (
            f"Unknown device {device_id!r}.", did_you_mean(str(device_id), _BY_ID),
            f"Valid devices: {', '.join(_BY_ID)}.") if p))
    return found


def fault_code(code: str) -> FaultCode:
    """The fault code ``code`` (e.g. ``"TUN-231"``); raises :class:`FactoryError` listing close ones."""
    found = _BY_CODE.get(code.upper())
    if found is None:
        raise FactoryError(" ".join(p for p in (
            f"Unknown fault code {code!r}.", did_you_mean(code.upper(), _BY_CODE),
            f"Codes look like TUN-231; valid: {', '.join(_BY_CODE)}.") if p))
    return found


def fault_codes_of(device_id: str) -> tuple[FaultCode, ...]:
    """The fault codes of one device, in code order."""
    device(device_id)
    return tuple(f for f in FAULT_CODES if f.device == device_id)
