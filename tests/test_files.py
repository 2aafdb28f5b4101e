"""``fathom._files``: folders and files appear whole or not at all, and the umask applies."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fathom._files import atomic_dir, atomic_write_bytes, atomic_write_text, is_leftover
from fathom._manifest import atomic_write_text as manifest_write_text


@pytest.fixture()
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_success_renames_the_folder_into_place(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "run"
    with atomic_dir(target) as tmp:
        assert tmp.parent == target.parent and is_leftover(tmp)
        (tmp / "a.nc").write_text("a")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("b")
    assert (target / "a.nc").read_text() == "a" and (target / "sub" / "b.txt").read_text() == "b"
    assert os.listdir(target.parent) == ["run"]  # no temporary left


def test_no_partial_folder_is_visible_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "first.nc").write_text("1")
        assert not target.exists()
        visible = [p for p in tmp_path.iterdir() if not is_leftover(p)]
        assert visible == []  # a reader listing the parent sees nothing but a hidden *.tmp
        (tmp / "second.nc").write_text("2")
    assert sorted(os.listdir(target)) == ["first.nc", "second.nc"]


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"), atomic_dir(target) as tmp:
        (tmp / "half.nc").write_text("half")
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_failure_keeps_the_existing_destination(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["run"] and os.listdir(target) == ["old.txt"]


def test_existing_destination_policies(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    (target / "model").mkdir()
    (target / "model" / "w.bin").write_text("old weights")
    with atomic_dir(target, exists="keep") as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(os.listdir(target)) == ["model", "old.txt"]  # keep: another writer finished first
    with atomic_dir(target, exists="merge") as tmp:
        (tmp / "new.txt").write_text("new")
        (tmp / "model").mkdir()
        (tmp / "model" / "x.bin").write_text("new weights")
    assert sorted(os.listdir(target)) == ["model", "new.txt", "old.txt"]  # merge: old entries stay
    assert os.listdir(target / "model") == ["x.bin"]  # ... but a namesake is replaced whole
    with atomic_dir(target, exists=lambda old: "replace" if (old / "old.txt").exists() else "keep") as tmp:
        (tmp / "only.txt").write_text("only")
    assert os.listdir(target) == ["only.txt"]  # replace: the old folder is gone
    assert os.listdir(tmp_path) == ["run"]


def test_folders_and_files_respect_the_umask(tmp_path: Path, umask_027: None) -> None:
    with atomic_dir(tmp_path / "run") as tmp:
        (tmp / "a.txt").write_text("a")
    assert _mode(tmp_path / "run") == 0o750  # mkdtemp would have made it 0700
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    manifest_write_text(tmp_path / "c.json", "{}\n")
    assert _mode(tmp_path / "b.bin") == 0o640 and _mode(tmp_path / "c.json") == 0o640  # mkstemp: 0600


def test_atomic_write_replaces_whole_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out" / "stats.json"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and os.listdir(path.parent) == ["stats.json"]

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(path, "newer")
    assert path.read_text() == "new" and os.listdir(path.parent) == ["stats.json"]


def test_is_leftover() -> None:
    assert is_leftover(".wave.nc.3f2a.tmp") and is_leftover(Path("/x/.20250105T00Z.ab12.tmp"))
    assert not is_leftover("wave.nc") and not is_leftover("notes.tmp") and not is_leftover(".hidden")
