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
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fathom import _files
from fathom.errors import OutputError

__all__ = ["atomic_write_bytes", "atomic_write_text", "check_writable", "file_sha256", "git_revision",
           "library_versions", "output_error", "save_figure", "write_manifest"]

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


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """An :class:`OutputError` naming ``path`` and why it cannot be written (a file in the way, a
    folder at ``path``, no permission)."""
    path = Path(path)
    existing = next((p for p in path.parents if p.exists()), None)  # missing folders would be created
    if path.is_dir():
        why = "it is a folder; pass a file path"
    elif existing is not None and not existing.is_dir():
        why = f"{existing} is a file, not a folder"
    elif isinstance(exc, PermissionError):
        why = f"permission denied ({exc.filename or existing}); choose a folder you can write to"
    else:
        why = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {why}. Pass another output path (--out).")


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise the :class:`OutputError` that writing the file ``path`` would raise, now (before long work).

    Nothing is created: missing folders above ``path`` would be created by the writers, so the
    nearest existing one must be a folder this process can write to.

    Raises:
        OutputError: ``path`` is a folder, a file is in the way, or the folder is not writable.
    """
    path = Path(path).absolute()
    existing = next(p for p in path.parents if p.exists())
    if path.is_dir() or not existing.is_dir():
        raise output_error(path, NotADirectoryError(20, "Not a directory", str(existing)))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise output_error(path, PermissionError(13, "Permission denied", str(existing)))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """:func:`atomic_write_text` for bytes (a PNG, say): :func:`fathom._files.atomic_write_bytes`
    (a temporary sibling file, then a rename; the umask applies), with :class:`OutputError` for a path
    that cannot be written."""
    try:
        _files.atomic_write_bytes(path, data)
    except OSError as exc:
        raise output_error(path, exc) from exc


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
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
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
