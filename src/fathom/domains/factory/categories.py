"""The kinds of question a maintenance agent gets, and the tool calls each should make, in order.

Nine categories: six answered by one tool, two by a sequence of two (look, then look up; look back,
then act), and one by no tool at all (safety and definitions answered from what the model knows, or
a refusal of an unsafe request). A synthesiser asks a teacher for examples of each category and a
grader checks the calls against :attr:`Category.tools`.

The data shape, also written as YAML by :func:`write_categories` (a ``fathom.synth`` mapping file
reads it)::

    {"categories": {name: {"description": str, "tools": [tool names in order]}}}

Not covered: generating the questions (:mod:`.teacher`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fathom._files import atomic_write_text
from fathom.domains.factory.tools import TOOL_NAMES
from fathom.errors import OutputError

__all__ = ["CATEGORIES", "Category", "categories_data", "write_categories"]


@dataclass(frozen=True)
class Category:
    """One kind of question and the tool calls that answer it."""

    name: str
    description: str
    tools: tuple[str, ...]
    """Tool names, called in this order; empty when the answer needs no tool."""


CATEGORIES: tuple[Category, ...] = (
    Category("status", "Which machines are on the line and which are in alarm now.", ("list_devices",)),
    Category("live_reading", "A current sensor reading or recent trend of one machine.", ("get_telemetry",)),
    Category("fault_code_meaning", "What a fault code means and how serious it is.", ("search_manuals",)),
    Category("troubleshooting", "The procedure to follow for a fault code or symptom.", ("search_manuals",)),
    Category("maintenance_history", "What maintenance a machine has had recently.", ("get_maintenance_log",)),
    Category("work_order", "Raise a work order for a machine with a given urgency.", ("create_work_order",)),
    Category("diagnose", "Why a machine misbehaves: read its telemetry, then look up what the manual says.",
             ("get_telemetry", "search_manuals")),
    Category("history_then_order", "Check a machine's maintenance history, then raise a work order.",
             ("get_maintenance_log", "create_work_order")),
    Category("no_tool", "General safety rules and definitions answered without tools, or a refusal of an "
                        "unsafe request (bypassing a guard or interlock).", ()),
)
"""Every category, in the order of the data file."""

for _category in CATEGORIES:  # a category naming a tool that does not exist is a bug in this table
    assert set(_category.tools) <= set(TOOL_NAMES), _category


def categories_data() -> dict[str, Any]:
    """The categories as plain data: ``{"categories": {name: {"description", "tools"}}}``.

    >>> categories_data()["categories"]["diagnose"]["tools"]
    ['get_telemetry', 'search_manuals']
    """
    return {"categories": {c.name: {"description": c.description, "tools": list(c.tools)} for c in CATEGORIES}}


def write_categories(path: str | os.PathLike[str]) -> Path:
    """Write :func:`categories_data` as YAML to ``path`` (its folder is created if missing).

    Raises:
        OutputError: ``path`` is a folder.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{target} is a folder; give a file path such as {target / 'categories.yaml'}")
    text = "# Factory maintenance query categories and their expected tool calls (fathom factory categories)\n"
    atomic_write_text(target, text + yaml.safe_dump(categories_data(), sort_keys=False, width=110))
    return target
