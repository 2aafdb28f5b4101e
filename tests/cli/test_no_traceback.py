"""``fathom`` never prints a Python traceback unless ``--debug`` is given: user errors get a precise
message (binary input files, an unwritable ``--out``, a busy port, a bad data file before the model
loads), an unexpected exception one line and a hint. Also: outputs honour the umask, and ``--help``
lists the allowed values where it says "one of"."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli._run import run

import fathom.backends
import fathom.models
from fathom.serve import bind_socket

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CHAT = ASSETS / "datasets_chat_tiny.jsonl"
# a PNG header: not UTF-8 from byte 0, with NUL bytes like any binary file
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))


@pytest.fixture
def binary_file(tmp_path: Path) -> Iterator[Path]:
    yield _binary(tmp_path, "photo.jsonl")


def _binary(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(BINARY)
    return path


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err


# -- binary (non-UTF-8) input files -------------------------------------------------------------

@pytest.mark.parametrize("make_args", [
    lambda f: ["data", "validate", str(f)],
    lambda f: ["data", "convert", str(f), "--to", "openai", "--out", str(f.parent / "o.jsonl")],
    lambda f: ["data", "split", str(f), "--out", str(f.parent / "splits")],
    lambda f: ["grade", "--grader", "exact", "--data", str(f), "--completions", str(f)],
    lambda f: ["generate", "--model", "smollm2-135m", "--data", str(f), "--out", str(f.parent / "c.jsonl")],
], ids=["validate", "convert", "split", "grade", "generate"])
def test_binary_data_file_names_file_and_byte_offset(binary_file: Path, make_args, capsys) -> None:
    code, _, err = run(make_args(binary_file), capsys)
    assert code == 2, err
    _no_traceback(err)
    assert f"{binary_file}:1: byte 0x89 at byte offset 0 (line 1, column 1) is not UTF-8" in err
    assert "binary file" in err


def test_binary_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = _binary(tmp_path, "recipe.yaml")
    code, _, err = run(["run", str(recipe), "--check"], capsys)
    assert code == 2 and str(recipe) in err and "byte 0 is not UTF-8" in err
    _no_traceback(err)


def test_bytes_after_valid_lines_give_their_line_and_offset(tmp_path: Path, capsys) -> None:
    data = tmp_path / "latin1.jsonl"
    first = CHAT.read_bytes().splitlines(keepends=True)[0]
    data.write_bytes(first + '{"messages": [{"role": "user", "content": "café"}]}\n'.encode("latin-1"))
    code, _, err = run(["data", "validate", str(data)], capsys)
    column = len('{"messages": [{"role": "user", "content": "caf') + 1
    offset = len(first) + column - 1
    assert code == 2 and f"{data}:2: byte 0xe9 at byte offset {offset} (line 2, column {column})" in err
    assert "another encoding" in err


@pytest.mark.parametrize("make_args", [
    lambda f: ["shipping", "parse", str(f)],
    lambda f: ["shipping", "score", "--pred", str(f), "--ref", str(f)],
    lambda f: ["shipping", "write", "--stats", str(f)],
], ids=["parse", "score", "write"])
@pytest.mark.parametrize("suffix", [".txt", ".json", ".jsonl"])
def test_binary_shipping_inputs(tmp_path: Path, make_args, suffix: str, capsys) -> None:
    path = _binary(tmp_path, "bulletin" + suffix)
    code, _, err = run(make_args(path), capsys)
    assert code == 2, err
    assert f"{path}:1: byte 0x89 at byte offset 0" in err
    _no_traceback(err)


# -- unwritable outputs and the umask ---------------------------------------------------------------

@pytest.mark.parametrize("make_args", [
    lambda out: ["data", "convert", str(CHAT), "--to", "openai", "--out", str(out / "x.jsonl")],
    lambda out: ["data", "split", str(CHAT), "--out", str(out / "splits")],
], ids=["convert", "split"])
def test_out_below_a_file_is_a_precise_error(tmp_path: Path, make_args, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(make_args(blocker), capsys)
    assert code == 2, err
    assert f"cannot write {blocker}" in err and f"{blocker} is a file, not a folder" in err and "--out" in err
    _no_traceback(err)


def test_out_in_a_folder_that_cannot_be_written(tmp_path: Path, monkeypatch, capsys) -> None:
    locked = tmp_path / "locked"
    real_open = os.open

    def refuse(path, *args, **kwargs):  # as root, chmod cannot make a folder unwritable
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    code, _, err = run(["data", "convert", str(CHAT), "--to", "openai", "--out", str(tmp_path / "locked" / "x.jsonl")],
                       capsys)
    assert code == 2 and "permission denied" in err and "choose a folder you can write to" in err
    _no_traceback(err)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_outputs_honour_the_umask(tmp_path: Path, umask_022: None, capsys) -> None:
    assert run(["data", "convert", str(CHAT), "--to", "openai", "--out", str(tmp_path / "c.jsonl")], capsys)[0] == 0
    assert run(["data", "split", str(CHAT), "--out", str(tmp_path / "s")], capsys)[0] == 0
    written = [tmp_path / "c.jsonl", *sorted((tmp_path / "s").iterdir())]
    assert len(written) == 5  # converted file, train/val/test and manifest.json
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {p.name: "0o644" for p in written}


def test_atomic_writer_follows_a_stricter_umask(tmp_path: Path) -> None:
    from fathom._manifest import atomic_write_text

    old = os.umask(0o077)
    try:
        atomic_write_text(tmp_path / "private.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


# -- unexpected exceptions and --debug ---------------------------------------------------------------

@pytest.fixture
def broken_list_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**kwargs):
        raise RuntimeError("the model catalogue exploded\nsecond line of detail")

    monkeypatch.setattr(fathom.models, "list_models", boom)
    monkeypatch.delenv("FATHOM_DEBUG", raising=False)


def test_unexpected_exception_is_one_line_and_a_hint(broken_list_models: None, capsys) -> None:
    code, _, err = run(["models", "list"], capsys)
    assert code == 1
    assert err.splitlines() == ["error: RuntimeError: the model catalogue exploded ...",
                                "run with --debug (or FATHOM_DEBUG=1) for the traceback"]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(broken_list_models: None, how: str, monkeypatch, capsys) -> None:
    if how == "env":
        monkeypatch.setenv("FATHOM_DEBUG", "1")
    code, _, err = run(["--debug", "models", "list"] if how == "flag" else ["models", "list"], capsys)
    assert code == 1
    assert "Traceback (most recent call last)" in err and "RuntimeError: the model catalogue exploded" in err
    assert "run with --debug" not in err


def test_fathom_errors_keep_their_exit_code_under_debug(tmp_path: Path, capsys) -> None:
    code, _, err = run(["--debug", "data", "split", str(CHAT), "--out", str(tmp_path), "--ratios", "0.5,x"], capsys)
    assert code == 2 and "ratio 'x' is not a number" in err and "Traceback" in err


def test_file_errors_name_the_path(monkeypatch, capsys) -> None:
    def missing(**kwargs):
        raise FileNotFoundError(2, "No such file or directory", "/nowhere/models.json")

    monkeypatch.setattr(fathom.models, "list_models", missing)
    monkeypatch.delenv("FATHOM_DEBUG", raising=False)
    code, _, err = run(["models", "list"], capsys)
    assert code == 1
    assert err.splitlines()[0] == ("error: FileNotFoundError: cannot access /nowhere/models.json: "
                                   "No such file or directory")


@pytest.mark.filterwarnings("always::fathom.errors.FathomWarning")
def test_warnings_print_as_one_line(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    code, _, err = run(["data", "validate", str(empty)], capsys)
    assert code == 0
    assert f"warning: {empty} holds no examples (it is empty or only blank lines)" in err.splitlines()
    assert "FathomWarning" not in err and ": clean" not in err


# -- bad arguments are reported before a model loads -------------------------------------------------

@pytest.fixture
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(fathom.backends, "load_backend", fail)


def test_generate_checks_data_before_loading(tmp_path: Path, no_model_loads: None, capsys) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "Hi"}]}\n{"messages": [\n'
                    '{"messages": [{"role": "assistant", "content": "no prompt"}]}\n')
    code, _, err = run(["generate", "-m", "smollm2-135m", "-d", str(data), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2 and f"{data}:2: not valid JSON" in err
    data.write_text('{"messages": [{"role": "assistant", "content": "no prompt"}]}\n')
    code, _, err = run(["generate", "-m", "smollm2-135m", "-d", str(data), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2 and f"{data}:1: no prompt" in err


def test_generate_checks_out_before_loading(tmp_path: Path, no_model_loads: None, capsys) -> None:
    (tmp_path / "a-file").write_text("")
    code, _, err = run(["generate", "-m", "smollm2-135m", "-d", str(CHAT), "-o", str(tmp_path / "a-file" / "o.jsonl")],
                       capsys)
    assert code == 2 and "is a file, not a folder" in err


def test_serve_checks_the_port_before_loading(no_model_loads: None, capsys) -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    try:
        code, _, err = run(["serve", "smollm2-135m", "--port", str(port)], capsys)
    finally:
        sock.close()
    assert code == 1 and f"Cannot listen on 127.0.0.1:{port}" in err
    _no_traceback(err)


# -- help lists the allowed values --------------------------------------------------------------------

def test_help_lists_values_where_it_says_one_of(capsys) -> None:
    from fathom.train import DTYPES, SCHEDULERS

    _, sft_help, _ = run(["train", "sft", "--help"], capsys)
    _, merge_help, _ = run(["train", "merge", "--help"], capsys)
    text = " ".join((sft_help + merge_help).split())
    assert "SCHEDULERS" not in text and "DTYPES" not in text
    assert f"one of {', '.join(SCHEDULERS)}" in text
    assert text.count(f"one of {', '.join(DTYPES)}") == 2
