"""Reading a PEFT adapter folder's base model, with a precise error for a damaged folder.

Covers: :func:`adapter_base` (``fathom.json``'s ``base``, else ``adapter_config.json``'s
``base_model_name_or_path``). Not covered: loading the adapter weights (PEFT does, in ``_load``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fathom.errors import ModelError

__all__ = ["adapter_base"]


def adapter_base(folder: Path) -> str:
    """The spec of the base model an adapter folder was trained on.

    Raises:
        ModelError: ``adapter_config.json`` (or ``fathom.json``) is not valid JSON, not an object,
            or names no base model; the message names the file and the key.
    """
    meta = folder / "fathom.json"
    if meta.exists():
        base = _json_object(meta).get("base")
        if base:
            return str(base)
    config_file = folder / "adapter_config.json"
    base = _json_object(config_file).get("base_model_name_or_path")
    if not isinstance(base, str) or not base.strip():
        raise ModelError(f"{config_file} names no base model: 'base_model_name_or_path' is "
                         f"{'missing' if base is None else repr(base)}. {_FIX}")
    return base


_FIX = ("The adapter folder looks damaged; write it again with `fathom train sft --out`, or set "
        "'base_model_name_or_path' to the base model's spec (e.g. \"smollm2-135m\" or a hub id).")


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path} is not UTF-8 text (byte offset {exc.start}). {_FIX}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). "
                         f"{_FIX}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path} must hold a JSON object, got {type(data).__name__}. {_FIX}")
    return data
