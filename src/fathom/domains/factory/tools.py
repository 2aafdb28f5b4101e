"""The maintenance agent's tools over one plant's state: telemetry, documents, log and work orders.

:class:`Plant` holds the state (what a real deployment would read from its historian, document store
and CMMS); :class:`PlantTools` are the five tools, typed and documented methods whose docstrings the
model reads as its manual; :func:`plant_tools` registers them in a :class:`~fathom.agent.ToolRegistry`:

* ``list_devices()``: every machine and whether it is in alarm;
* ``get_telemetry(device, minutes=60, sensor=None)``: recent readings, summarised, and the alarms;
* ``search_manuals(query, device=None)``: the best document passages (BM25, :mod:`._search`);
* ``get_maintenance_log(device, days=30)``: recent maintenance jobs;
* ``create_work_order(device, priority, summary)``: a new work order (kept in ``plant.work_orders``).

These names are stable: categories, the teacher and graders refer to them. A bad device, sensor or
range raises :class:`~fathom.domains.factory.plant.FactoryToolError` (a :class:`~fathom.agent.ToolError`
naming the valid values), which an agent feeds back to the model.

Not covered: the agent loop (``fathom.agent``), live data sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Literal

import numpy as np

from fathom.agent import ToolRegistry
from fathom.domains.factory._search import PassageIndex
from fathom.domains.factory.docs import Passage
from fathom.domains.factory.docs import passages as all_passages
from fathom.domains.factory.maintenance import LogEntry, maintenance_log
from fathom.domains.factory.plant import DEVICES, FactoryToolError
from fathom.domains.factory.plant import device as find_device
from fathom.domains.factory.simulator import Alarm, Telemetry, simulate

__all__ = ["MAX_DAYS", "MAX_MINUTES", "PRIORITIES", "TOOL_NAMES", "Plant", "PlantTools", "Priority", "WorkOrder",
           "plant_tools", "tool_schemas"]

Priority = Literal["low", "medium", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("low", "medium", "high", "urgent")
MAX_MINUTES = 24 * 60
"""Longest telemetry window a tool call may ask for."""
MAX_DAYS = 365
"""Longest maintenance-log window a tool call may ask for."""
TOOL_NAMES = ("list_devices", "get_telemetry", "search_manuals", "get_maintenance_log", "create_work_order")
"""The tools, in the order :func:`plant_tools` registers them."""
_SAMPLES = 12  # readings shown per sensor: enough for a trend, short enough for a small model's context
_STAMP = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class WorkOrder:
    """A work order raised through ``create_work_order``."""

    id: str
    device: str
    priority: Priority
    summary: str
    created: str
    status: str = "open"


@dataclass
class Plant:
    """One plant's state for the tools. ``now`` is the end of the telemetry."""

    telemetry: Telemetry
    maintenance: Sequence[LogEntry] | None = None
    """Default: :func:`~fathom.domains.factory.maintenance.maintenance_log` up to the day before the telemetry."""
    passages: Sequence[Passage] | None = None
    """What ``search_manuals`` searches; default every passage of the plant's documents
    (:func:`~fathom.domains.factory.docs.passages`)."""
    work_orders: list[WorkOrder] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.maintenance is None:
            self.maintenance = maintenance_log(self.telemetry.start.date() - timedelta(days=1))
        if self.passages is None:
            self.passages = all_passages()

    @classmethod
    def simulated(cls, hours: float = 8.0, faults: Iterable[str] = (), *, seed: int = 0,
                  onset: int | None = None) -> Plant:
        """A plant running on simulated telemetry (:func:`~fathom.domains.factory.simulator.simulate`)."""
        return cls(simulate(hours, faults, seed=seed, onset=onset))

    @property
    def now(self) -> datetime:
        """The minute after the last reading."""
        return self.telemetry.end

    @cached_property
    def index(self) -> PassageIndex:
        """The search index of :attr:`passages` (built on first use)."""
        return PassageIndex(self.passages or ())


def _alarm(a: Alarm) -> dict[str, Any]:
    return {"code": a.code, "severity": a.severity, "message": a.message, "raised": a.raised.strftime(_STAMP),
            "cleared": a.cleared.strftime(_STAMP) if a.cleared else None}


def _check_range(name: str, value: int, high: int) -> None:
    if not 1 <= value <= high:
        raise FactoryToolError(f"{name}={value} is out of range; use 1 to {high}")


class PlantTools:
    """The five tools, bound to one :class:`Plant` (register them with :func:`plant_tools`)."""

    def __init__(self, plant: Plant):
        self.plant = plant

    def list_devices(self) -> list[dict[str, Any]]:
        """List every machine on the production line with its vendor, model and current alarm state.

        Returns:
            One entry per machine in line order: id, name, vendor, model, status ("running" or "alarm") and
            active_alarms (the fault codes active now).
        """
        active = [a for a in self.plant.telemetry.alarms if a.cleared is None]
        return [{"id": d.id, "name": d.name, "vendor": d.vendor, "model": d.model,
                 "status": "alarm" if any(a.device == d.id for a in active) else "running",
                 "active_alarms": [a.code for a in active if a.device == d.id]} for d in DEVICES]

    def get_telemetry(self, device: str, minutes: int = 60, sensor: str | None = None) -> dict[str, Any]:
        """Read a machine's recent sensor readings (once a minute), summarised, with its alarms in that window.

        Args:
            device: machine id, e.g. "tunnel-1" (list_devices gives them all).
            minutes: how far back to look, 1 to 1440.
            sensor: one sensor name, e.g. "air_temp_c"; omit for all of the machine's sensors.

        Returns:
            The window (from, to), and per sensor its unit, latest, min, mean, max, change over the window and
            up to 12 evenly spaced [time, value] samples; plus the machine's alarms raised or active in the window.
        """
        found = find_device(device)
        _check_range("minutes", minutes, MAX_MINUTES)
        names = [found.sensor(sensor).name] if sensor is not None else [s.name for s in found.sensors]
        telemetry = self.plant.telemetry
        first = max(0, telemetry.minutes - minutes)
        window_start = telemetry.time(first)
        readings = {}
        for name in names:
            x = telemetry.series(found.id, name)[first:]
            picks = np.unique(np.linspace(0, len(x) - 1, min(_SAMPLES, len(x))).round().astype(int))
            readings[name] = {"unit": found.sensor(name).unit, "latest": float(x[-1]), "min": float(x.min()),
                              "mean": round(float(x.mean()), 2), "max": float(x.max()),
                              "change": round(float(x[-1] - x[0]), 2),
                              "samples": [[telemetry.time(first + int(i)).strftime("%H:%M"), float(x[i])]
                                          for i in picks]}
        alarms = [_alarm(a) for a in telemetry.alarms
                  if a.device == found.id and (a.cleared is None or a.cleared > window_start)]
        result: dict[str, Any] = {"device": found.id, "from": window_start.strftime(_STAMP),
                                  "to": telemetry.end.strftime(_STAMP), "minutes": telemetry.minutes - first,
                                  "sensors": readings, "alarms": alarms}
        if telemetry.minutes < minutes:
            result["note"] = f"only {telemetry.minutes} minutes of history exist"
        return result

    def search_manuals(self, query: str, device: str | None = None) -> dict[str, Any]:
        """Search the OEM manuals, service bulletins, site safety rules and fault-code table.

        Args:
            query: words to look for, e.g. a fault code ("TUN-231"), a symptom or a procedure name.
            device: machine id to search only that machine's documents; omit to search everything.

        Returns:
            Up to 3 passages, best first, each with its source file, section, device, score and text.
        """
        if not query.strip():
            raise FactoryToolError("query is empty; search for a fault code, a symptom or a procedure")
        if device is not None:
            find_device(device)
        hits = self.plant.index.search(query, k=3, device=device)
        return {"query": query, "device": device,
                "results": [{"source": h.passage.source, "section": h.passage.heading, "device": h.passage.device,
                             "score": h.score, "text": h.passage.text} for h in hits]}

    def get_maintenance_log(self, device: str, days: int = 30) -> dict[str, Any]:
        """Read a machine's maintenance history: preventive jobs and repairs, newest first.

        Args:
            device: machine id, e.g. "former-1".
            days: how many days back to look, 1 to 365.

        Returns:
            The device, the window in days and its entries (date, type "preventive" or "corrective", fault code,
            work done, technician, hours).
        """
        found = find_device(device)
        _check_range("days", days, MAX_DAYS)
        since = self.plant.now.date() - timedelta(days=days)
        entries = [e for e in self.plant.maintenance or () if e.device == found.id and e.date >= since]
        return {"device": found.id, "days": days,
                "entries": [{"date": e.date.isoformat(), "type": e.type, "code": e.code, "work": e.work,
                             "technician": e.technician, "hours": e.hours}
                            for e in sorted(entries, key=lambda e: e.date, reverse=True)]}

    def create_work_order(self, device: str, priority: Priority, summary: str) -> dict[str, Any]:
        """Raise a maintenance work order for a machine.

        Args:
            device: machine id, e.g. "camera-1".
            priority: "low" (next planned stop), "medium" (this week), "high" (this shift) or "urgent" (now;
                the line is stopped or unsafe).
            summary: what is wrong and what should be done, in one or two sentences (at most 300 characters).

        Returns:
            The new work order: id, device, priority, summary, created time and status "open".
        """
        found = find_device(device)
        text = " ".join(summary.split())
        if not 5 <= len(text) <= 300:
            raise FactoryToolError(f"summary has {len(text)} characters; write 5 to 300 saying what is wrong "
                                   f"and what to do")
        order = WorkOrder(f"WO-{len(self.plant.work_orders) + 1:04d}", found.id, priority, text,
                          self.plant.now.strftime(_STAMP))
        self.plant.work_orders.append(order)
        return asdict(order)


def plant_tools(plant: Plant) -> ToolRegistry:
    """A registry of the five tools over ``plant``, in :data:`TOOL_NAMES` order."""
    tools = PlantTools(plant)
    return ToolRegistry(getattr(tools, name) for name in TOOL_NAMES)


def tool_schemas() -> list[dict[str, Any]]:
    """The five tools' OpenAI schemas (they do not depend on the plant's state)."""
    return plant_tools(Plant.simulated(hours=1 / 60)).schemas()
