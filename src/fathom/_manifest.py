"""Run manifests: what produced an artifact (config, input hashes, library versions, git revision).

Every stage and every training or evaluation run writes ``manifest.json`` next to its outputs so a
result can be traced and reproduced.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "atomic_write_text", "file_sha256", "git_revision", "library_versions", "save_figure",
           "write_manifest"]

_LIBRARIES = ("fathom", "torch", "transformers", "trl", "peft", "datasets", "xarray", "numpy",
              "dask", "netCDF4")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, or of every file below a folder (sorted by relative path)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape results."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_revision(cwd: str | os.PathLike[str] | None = None) -> str | None:
    """The current git commit (with ``-dirty`` if the tree has changes), or None outside git."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "")


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """:func:`atomic_write_text` for bytes (a PNG, say): a temporary file beside ``path``, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig: Any, path: str | os.PathLike[str], **savefig: Any) -> Path:
    """Save a matplotlib figure as PNG at ``path`` atomically; returns the path."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def write_manifest(out_dir: str | os.PathLike[str], *, kind: str, config: dict[str, Any],
                   inputs: dict[str, str | os.PathLike[str]] | None = None,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write ``out_dir/manifest.json`` and return its path.

    Args:
        out_dir: the run folder.
        kind: what ran (``"sft"``, ``"eval"``, ``"stage:data"`` ...).
        config: the resolved configuration (JSON-serialisable).
        inputs: name -> path of input files or folders; each is hashed.
        extra: anything else worth keeping (timings, step counts).
    """
    manifest = {
        "kind": kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "inputs": {k: {"path": str(v), "sha256": file_sha256(v)} for k, v in (inputs or {}).items()
                   if Path(v).exists()},
        "versions": library_versions(),
        "git_revision": git_revision(),
        "command": sys.argv,
        **(extra or {}),
    }
    path = Path(out_dir) / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return path
