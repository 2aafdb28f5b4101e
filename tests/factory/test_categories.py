"""The query categories: the data shape a synth mapping file reads, and its YAML form."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fathom.domains.factory import CATEGORIES, TOOL_NAMES, categories_data, write_categories
from fathom.errors import OutputError


def test_the_categories_and_their_tools() -> None:
    data = categories_data()["categories"]
    assert list(data) == ["status", "live_reading", "fault_code_meaning", "troubleshooting", "maintenance_history",
                          "work_order", "diagnose", "history_then_order", "no_tool"]
    assert data["diagnose"]["tools"] == ["get_telemetry", "search_manuals"]
    assert data["history_then_order"]["tools"] == ["get_maintenance_log", "create_work_order"]
    assert data["no_tool"]["tools"] == []
    assert all(set(c["tools"]) <= set(TOOL_NAMES) and c["description"] for c in data.values())
    assert {t for c in CATEGORIES for t in c.tools} == set(TOOL_NAMES)  # every tool is wanted somewhere


def test_write_categories_round_trips(tmp_path: Path) -> None:
    path = write_categories(tmp_path / "sub" / "categories.yaml")
    assert path.read_text().startswith("# Factory maintenance query categories")
    assert yaml.safe_load(path.read_text()) == categories_data()


def test_write_categories_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder; give a file path"):
        write_categories(tmp_path)
