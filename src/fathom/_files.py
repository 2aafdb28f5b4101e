"""Writing files and folders so that readers never see half of one.

Covers: :func:`atomic_dir`, a context manager that yields a temporary sibling folder to fill and
renames it into place when the block succeeds (removed when it fails), with the policy for a
destination that already exists chosen by the caller; and :func:`atomic_write_bytes` /
:func:`atomic_write_text` for single files (a temporary sibling file, then a rename). Temporary
names are hidden and end in ``.tmp`` (``.NAME.<random>.tmp``), so a reader can recognise the
leftover of an interrupted write (:func:`is_leftover`).

Everything created here respects the process umask, like ``open()`` and ``mkdir()`` do
(``tempfile.mkstemp``/``mkdtemp`` would make them 0600/0700 for good).

Not covered: locking between concurrent writers (the last rename wins, or ``exists="keep"``
keeps the first), fsync for durability across power loss.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

__all__ = ["Exists", "atomic_dir", "atomic_write_bytes", "atomic_write_text", "is_leftover"]

Exists = Literal["replace", "keep", "merge"]
"""What :func:`atomic_dir` does when the destination exists as the block ends.

* ``"replace"``: the old folder is swapped out and deleted (never a moment with half of either);
* ``"keep"``: the old folder stays and the new one is discarded (another writer finished first);
* ``"merge"``: each top-level entry of the new folder replaces the entry of that name in the old
  one (one rename each); other entries of the old folder stay (a training run's checkpoints).
"""

_SUFFIX = ".tmp"


def is_leftover(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like a temporary file or folder of this module (``.NAME.xxxx.tmp``).

    >>> is_leftover("runs/.20250105T00Z.3f2a9c1e.tmp"), is_leftover("runs/20250105T00Z")
    (True, False)
    """
    name = Path(path).name
    return name.startswith(".") and name.endswith(_SUFFIX)


def _temporary(target: Path, make: Callable[[Path], None]) -> Path:
    """Create (with ``make``) a new hidden sibling of ``target`` with a random name; return it."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{_SUFFIX}")
        try:
            make(tmp)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"could not create a temporary name beside {target}")  # pragma: no cover


@contextmanager
def atomic_dir(target: str | os.PathLike[str],
               exists: Exists | Callable[[Path], Exists] = "replace") -> Iterator[Path]:
    """Yield an empty temporary sibling folder of ``target``; on success it becomes ``target``.

    Args:
        target: the folder to create. Its parent is created if missing.
        exists: what to do when ``target`` exists when the block ends (see :data:`Exists`), or a
            function of the existing folder that decides (read at that moment, so it can see a
            folder another process finished meanwhile).

    Yields:
        The temporary folder to write into (same file system as ``target``).

    If the block raises (or the process is interrupted), the temporary folder is removed (after
    ``kill -9`` it stays behind, named as :func:`is_leftover` recognises); ``target`` is untouched.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     with atomic_dir(Path(root) / "run") as tmp:
    ...         _ = (tmp / "a.txt").write_text("done")
    ...     sorted(p.name for p in Path(root).iterdir()), (Path(root) / "run" / "a.txt").read_text()
    (['run'], 'done')
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(target, lambda p: p.mkdir(mode=0o777))  # the umask applies, as for mkdir
    try:
        yield tmp
        _commit(tmp, target, exists)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(tmp: Path, target: Path, exists: Exists | Callable[[Path], Exists]) -> None:
    if not target.exists():
        tmp.rename(target)
        return
    policy = exists(target) if callable(exists) else exists
    if policy == "keep":
        shutil.rmtree(tmp)
    elif policy == "merge":
        for item in sorted(tmp.iterdir()):
            old = target / item.name
            if old.exists() and old.is_dir() != item.is_dir():  # a file where a folder was, or the reverse
                shutil.rmtree(old) if old.is_dir() else old.unlink()
            _swap(item, old)
        tmp.rmdir()
    elif policy == "replace":
        _swap(tmp, target)
    else:
        raise ValueError(f"exists={policy!r}; valid: replace, keep, merge")


def _swap(new: Path, old: Path) -> None:
    """Put ``new`` at ``old``'s path: a folder is moved aside first, so the path is never half-written."""
    if old.is_dir() and not old.is_symlink():
        trash = old.with_name(f".{old.name}.{secrets.token_hex(4)}.old{_SUFFIX}")
        old.rename(trash)
        new.rename(old)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(new, old)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it.

    A temporary sibling file (created with mode 0666 less the umask, as ``open()`` would), then a
    rename over ``path``. The parent folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fds: list[int] = []
    tmp = _temporary(path, lambda p: fds.append(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)))
    try:
        with os.fdopen(fds[0], "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))
