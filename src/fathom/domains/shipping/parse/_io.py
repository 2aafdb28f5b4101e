"""Reading area forecasts from files: plain-text bulletins, JSON Lines and structured JSON.

Covers:

* records of the shared real-bulletin file (``{"areas": [{"names", "wind", "sea_state",
  "weather", "visibility", "per_area"?}], ...}``), where an XML entry's ``per_area`` items
  expand to one forecast per area (:func:`parse_record`);
* structured forecasts (:meth:`AreaForecast.to_dict` dicts, as printed by
  ``fathom shipping parse``), one per JSON Lines line or in a JSON list;
* the writer's ``--json`` bulletin (``{"areas": {name: fields}}`` or ``{"text": ...}``);
* anything else is read as a plain-text bulletin (:func:`~fathom.domains.shipping.parse._parser.parse_bulletin`).

Not covered: the grammar (``parse/_grammar.py``) and scoring (``score/_scorer.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fathom._textfile import read_utf8
from fathom.domains.shipping.parse._parser import parse_area_text, parse_bulletin
from fathom.domains.shipping.vocab import AreaForecast
from fathom.errors import DataError, DomainError, Problem

__all__ = ["forecasts_from_json", "parse_record", "read_forecasts"]

_FIELD_KEYS = ("wind", "sea_state", "weather", "visibility")


def _entry(entry: dict[str, Any], names: list[str]) -> AreaForecast:
    wind, sea_state, weather, visibility = (str(entry.get(k) or "") for k in _FIELD_KEYS)
    return parse_area_text(wind, sea_state, weather, visibility, names=names)


def parse_record(record: dict[str, Any], per_area: bool = True) -> list[AreaForecast]:
    """The area forecasts of one record of the shared real-bulletin JSON Lines file.

    Args:
        record: one line of ``real_bulletins.jsonl`` (``areas[]`` with field strings).
        per_area: expand an XML entry's ``per_area`` items to one forecast per area (else the
            group's own text is parsed once).

    Returns:
        One forecast per ``areas[]`` entry, or per ``per_area`` item.

    >>> rec = {"areas": [{"names": ["Viking"], "wind": "West 6.", "sea_state": "Rough.",
    ...                   "weather": "Rain.", "visibility": "Good."}]}
    >>> [fc.names for fc in parse_record(rec)]
    [('Viking',)]
    """
    out: list[AreaForecast] = []
    for entry in record.get("areas") or []:
        items = entry.get("per_area") if per_area else None
        if items:
            for item in items:
                name = " ".join(p for p in (item.get("sub"), item.get("main")) if p)
                out.append(_entry(item, [name]))
        else:
            out.append(_entry(entry, list(entry.get("names") or [])))
    return out


def _is_structured(obj: Any) -> bool:
    return isinstance(obj, dict) and "names" in obj and isinstance(obj.get("force"), dict)


def forecasts_from_json(data: Any, where: str = "", per_area: bool = True
                        ) -> list[AreaForecast]:
    """Area forecasts from one parsed JSON value (see the module docstring for the layouts).

    Args:
        data: the JSON value.
        where: where it came from (file and line), for error messages.
        per_area: expand real-bulletin XML entries to their ``per_area`` items.

    Raises:
        DataError: the value is none of the layouts.
    """
    try:
        if isinstance(data, list):
            return [fc for item in data for fc in forecasts_from_json(item, where, per_area)]
        if _is_structured(data):
            return [AreaForecast.from_dict(data)]
        if isinstance(data, dict):
            areas = data.get("areas")
            if isinstance(areas, dict):
                return [AreaForecast.from_dict({**fields, "names": [name]})
                        for name, fields in areas.items()]
            if isinstance(areas, list):
                return parse_record(data, per_area)
            if all(k in data for k in _FIELD_KEYS):
                return [_entry(data, list(data.get("names") or []))]
            if isinstance(data.get("text"), str):
                return parse_bulletin(data["text"])
    except DomainError as exc:
        raise DataError([Problem(where, str(exc))], title="unreadable forecast") from exc
    keys = sorted(data) if isinstance(data, dict) else type(data).__name__
    raise DataError([Problem(where, f"not a forecast layout (got {keys}); expected a "
                                    "real-bulletin record with 'areas', a structured forecast "
                                    "with 'names' and field dicts, or a bulletin with 'text'")],
                    title="unreadable forecast")


def read_forecasts(path: str | Path, per_area: bool = True) -> list[AreaForecast]:
    """Every area forecast in a file, whatever its layout.

    ``*.jsonl`` files are read line by line; ``*.json`` as one JSON value; any other file as a
    plain-text bulletin.

    Args:
        path: the file.
        per_area: expand real-bulletin XML entries to their ``per_area`` items.

    Raises:
        DataError: the file is missing or not UTF-8 text, or a JSON line is invalid or of no
            known layout (every bad line is listed).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError([Problem(str(path), "no such file; pass a bulletin (.txt), JSON Lines "
                                            "(.jsonl) or JSON (.json) file")],
                        title="unreadable forecast file")
    text = read_utf8(path)  # DataError naming the byte when the file is not UTF-8 text
    if path.suffix == ".jsonl":
        return _read_jsonl(path, text, per_area)
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError([Problem(f"{path}:{exc.lineno}", f"not valid JSON: {exc.msg}")],
                            title="unreadable forecast file") from exc
        return forecasts_from_json(data, str(path), per_area)
    return parse_bulletin(text)


def _read_jsonl(path: Path, text: str, per_area: bool) -> list[AreaForecast]:
    out: list[AreaForecast] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            out.extend(forecasts_from_json(json.loads(line), where, per_area))
        except json.JSONDecodeError as exc:
            problems.append(Problem(where, f"not valid JSON: {exc.msg} (column {exc.colno})"))
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems, title="unreadable forecast file")
    return out
