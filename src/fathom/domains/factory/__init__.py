"""The factory maintenance domain: a simulated biscuit line, its OEM documents and an agent's tools.

The plug-in object below is what Fathom's core sees (entry point ``fathom.domains``): the
``fathom factory`` verbs. The public API is listed in ``__all__`` and imported lazily (on first
attribute access), so loading the plug-in to list CLI verbs costs nothing. ``docs/factory.md`` tours it.

The modules, in the order a newcomer reads them:

* ``plant``: the six machines (:data:`DEVICES`), their sensors and fault codes (:data:`FAULT_CODES`);
* ``simulator``: seeded minute-by-minute telemetry with injectable :data:`FAULTS` (:func:`simulate`);
* ``maintenance``: the preventive schedule and a seeded maintenance log (:func:`maintenance_log`);
* ``docs``: manuals (text, markdown, PDF), a service bulletin, site rules, fault-code table, log
  (:func:`documents`, :func:`write_documents`); their text lives in ``manuals/*.yaml``;
* ``tools``: :class:`Plant` state and the five tools (:func:`plant_tools`, a :class:`fathom.agent.ToolRegistry`);
* ``categories``: nine question categories and their expected tool calls (:data:`CATEGORIES`);
* ``teacher``: :class:`FactoryTemplateTeacher`, an offline template teacher for ``fathom.synth``;
* ``cli``: ``fathom factory simulate | docs | categories``;
* ``_stages``: the recipe stages ``factory_docs`` and ``factory_report`` (``recipes/factory-tools.yaml``).
"""

from __future__ import annotations

import importlib
from typing import Any

from fathom._plugins import DomainPlugin

plugin = DomainPlugin(name="factory", cli="fathom.domains.factory.cli:factory",
                      stages={"factory_docs": "fathom.domains.factory._stages:factory_docs_stage",
                              "factory_report": "fathom.domains.factory._stages:factory_report_stage"})

# module -> the public names it exports here (each module's own ``__all__`` may have more)
_MODULES: dict[str, tuple[str, ...]] = {
    "plant": ("DEVICES", "FAULT_CODES", "PLANT_DATE", "Device", "FactoryError", "FactoryToolError", "FaultCode",
              "Sensor", "UnknownDeviceError", "device", "fault_code"),
    "simulator": ("FAULTS", "Alarm", "Fault", "Telemetry", "read_telemetry", "simulate", "write_telemetry"),
    "maintenance": ("PREVENTIVE", "LogEntry", "maintenance_log"),
    "docs": ("Document", "Passage", "documents", "passages", "write_documents"),
    "tools": ("PRIORITIES", "TOOL_NAMES", "Plant", "PlantTools", "WorkOrder", "plant_tools", "tool_schemas"),
    "categories": ("CATEGORIES", "Category", "categories_data", "write_categories"),
    "teacher": ("FAMILIES", "FactoryTemplateTeacher", "heldout_families"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = ["plugin", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fathom.domains.factory' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fathom.domains.factory.{module}"), name)
    globals()[name] = value
    return value
