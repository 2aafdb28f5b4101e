"""Line 1's maintenance: the preventive schedule (in the manuals) and a seeded maintenance log.

The log is what the plant's CMMS would export: one dated entry per job, preventive (from
:data:`PREVENTIVE`, on its interval, sometimes a day late) or corrective (a fault code that
happened, with what the technician found and did). The tunnel has a history of icing (TUN-231 twice
in recent weeks), so "look at the history, then raise an order" questions have something to find.

Covers: :data:`PREVENTIVE`, :class:`LogEntry`, :func:`maintenance_log`, :func:`log_rows`.
Not covered: work orders raised by the agent (:mod:`.tools`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from fathom.domains.factory.plant import PLANT_DATE, FactoryError, device, fault_code

__all__ = ["LOG_FIELDS", "PREVENTIVE", "LogEntry", "Task", "log_rows", "maintenance_log"]


@dataclass(frozen=True)
class Task:
    """A preventive job done every ``every_days`` days."""

    device: str
    work: str
    every_days: int
    hours: float


PREVENTIVE: tuple[Task, ...] = (
    Task("mixer-1", "Inspect mixing arms, bowl seals and drive belt tension", 30, 1.5),
    Task("mixer-1", "Calibrate the water meter against a weighed 20 kg dose", 90, 1.0),
    Task("former-1", "Inspect the scraper blade edge and its pneumatic pressure", 7, 0.5),
    Task("former-1", "Take a hydraulic oil sample; check oil level and filter indicator", 30, 1.0),
    Task("former-1", "Replace the hydraulic return filter element", 90, 1.5),
    Task("oven-1", "Check band tracking and tension; inspect the drive drum lagging", 7, 0.75),
    Task("oven-1", "Burner service and flame-failure test (gas-qualified engineer)", 90, 4.0),
    Task("tunnel-1", "Clean evaporator coils and drain trays; check the door curtains", 14, 2.0),
    Task("tunnel-1", "Refrigerant leak check, recorded in the F-gas log", 90, 1.5),
    Task("camera-1", "Clean the lens window and light bar; verify with the test tile", 7, 0.5),
    Task("camera-1", "Colour calibration with the reference card", 30, 1.0),
    Task("wrapper-1", "Clean and inspect the seal jaws; check the jaw thermocouples", 7, 0.75),
    Task("wrapper-1", "Replace the cross-seal cutter knife", 60, 1.0),
)
"""The preventive schedule; the manuals' maintenance sections render from it."""

# code (or "code again" for a repeat) -> what the technician found and did (corrective entries)
_REPAIRS: dict[str, str] = {
    "MIX-011": "Chilled-water valve to the bowl jacket stuck half shut; freed and tested, dough back to 26 °C.",
    "MIX-024": "Overfilled bowl after a recipe scaling error; batch split, recipe weights corrected.",
    "MIX-032": "Door interlock switch misaligned after the door hinge was adjusted; realigned and tested.",
    "MIX-045": "Water meter read 3 % high; recalibrated against a weighed dose.",
    "FRM-101": "Hopper level probe coated with dough; cleaned and re-zeroed.",
    "FRM-107": "Weeping seal on the main feed-roll ram; replaced seal kit SK-850-3, pressure restored to 6.0 bar.",
    "FRM-112": "Oil cooler fan fuse blown; replaced, oil temperature back to 44 °C.",
    "FRM-118": "Scraper blade worn past the wear mark; replaced the blade and set the pressure to 3 bar.",
    "FRM-130": "Light curtain receiver dirty; cleaned both lenses and tested with the test rod.",
    "OVN-501": "Flame rod on zone 2 burner cracked; replaced by the gas engineer, flame-failure test passed.",
    "OVN-514": "Zone 3 thermocouple drifting; replaced, zone within 2 °C of setpoint.",
    "OVN-520": "Drive drum lagging glazed; cleaned and re-tensioned the band, speed steady at 11.5 m/min.",
    "OVN-533": "Band tracking 15 mm off-centre; adjusted the outfeed tracking rollers.",
    "TUN-201": "Defrost termination sensor out of its clip; refitted.",
    "TUN-215": "Low refrigerant charge; leak found at a flare joint, repaired and recharged (F-gas log updated).",
    "TUN-231": "Evaporator coil iced over; manual defrost, drain line heater found open circuit and replaced.",
    "TUN-231 again": "Evaporator 2 iced over again; manual defrost. Drain heater tested good; door curtain "
                     "strips torn, ordered replacements.",
    "TUN-240": "Tunnel not keeping up after a long door opening; line slowed 20 % until exit temperature recovered.",
    "TUN-252": "Fan 2 overload tripped twice; motor bearing worn, fan motor replaced.",
    "CAM-301": "LED bar light at 70 % intensity; bar replaced and camera re-calibrated.",
    "CAM-305": "Lens window fouled with flour dust; cleaned with lint-free wipe, test tile passed.",
    "CAM-412": "Broken rejects traced to a worn transfer plate at the tunnel exit; plate replaced.",
    "CAM-418": "Size rejects from a dough too dry; mixer water dose corrected, rejects normal.",
    "CAM-420": "Colour rejects from zone 2 running hot; burner modulation set up again.",
    "CAM-450": "Air-jet filter blocked; element replaced, jet pressure 5.5 bar.",
    "WRP-601": "Reel end; new reel spliced.",
    "WRP-612": "Jaw heater cartridge failed; replaced, jaws at 165 °C.",
    "WRP-618": "Registration eye dirty; cleaned and taught the print mark again.",
    "WRP-625": "Biscuit jam in the jaws; line locked out, jaws cleared and product guide adjusted.",
}
_HISTORY = (  # (days before the end of the log, code): recurring tunnel icing and a few others
    (5, "TUN-231 again"), (19, "TUN-231"), (47, "TUN-201"), (33, "FRM-107"), (61, "FRM-118"), (12, "CAM-305"),
    (40, "CAM-450"), (26, "OVN-520"), (74, "OVN-514"), (9, "WRP-612"), (53, "WRP-625"), (88, "MIX-045"),
    (15, "MIX-011"), (101, "TUN-252"), (67, "CAM-412"),
)
_TECHNICIANS = ("A. Novak", "B. Okafor", "C. Lindqvist", "D. Mensah", "E. Ramirez")

LOG_FIELDS = ("date", "device", "type", "code", "work", "technician", "hours")
"""Columns of the ``<device>_maintenance_log.csv`` files."""


@dataclass(frozen=True)
class LogEntry:
    """One job in the maintenance log."""

    date: date
    device: str
    type: Literal["preventive", "corrective"]
    code: str
    """The fault code a corrective job answered ('' for preventive jobs)."""
    work: str
    technician: str
    hours: float


def maintenance_log(end: date | None = None, days: int = 120, seed: int = 0) -> tuple[LogEntry, ...]:
    """The maintenance log of the ``days`` days up to and including ``end``, oldest first.

    Args:
        end: last day of the log; default the day before :data:`~fathom.domains.factory.plant.PLANT_DATE`.
        days: how far back it goes (1 to 3650).
        seed: picks technicians, schedule phases and late jobs; the same seed gives the same log.

    Raises:
        FactoryError: ``days`` out of range.
    """
    if not 1 <= days <= 3650:
        raise FactoryError(f"days={days} is out of range: a maintenance log covers 1 to 3650 days")
    last = end or PLANT_DATE - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(b"maintenance")]))
    entries = []
    for task in PREVENTIVE:
        day = first + timedelta(days=int(rng.integers(task.every_days)))
        while day <= last:
            late = int(rng.random() < 0.1)
            done = min(day + timedelta(days=late), last)
            entries.append(LogEntry(done, task.device, "preventive", "", task.work,
                                    _TECHNICIANS[int(rng.integers(len(_TECHNICIANS)))], task.hours))
            day += timedelta(days=task.every_days)
    for ago, repair in _HISTORY:
        if ago < days:
            fault = fault_code(repair.split()[0])
            entries.append(LogEntry(last - timedelta(days=ago), fault.device, "corrective", fault.code,
                                    f"{fault.meaning}. {_REPAIRS[repair]}",
                                    _TECHNICIANS[int(rng.integers(len(_TECHNICIANS)))],
                                    float(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0]))))
    for entry in entries:
        device(entry.device)
    return tuple(sorted(entries, key=lambda e: (e.date, e.device, e.type, e.work)))


def log_rows(entries: tuple[LogEntry, ...]) -> list[dict[str, str]]:
    """The entries as CSV rows (columns :data:`LOG_FIELDS`)."""
    return [{"date": e.date.isoformat(), "device": e.device, "type": e.type, "code": e.code, "work": e.work,
             "technician": e.technician, "hours": f"{e.hours:g}"} for e in entries]
