"""Files that used to pass silently or crash: non-UTF-8 bytes, empty files, a group key no example has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fathom.datasets import check_file, convert_file, read_jsonl, split_examples, split_file, write_jsonl
from fathom.errors import ConfigError, DataError, FathomWarning

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CHAT = ASSETS / "datasets_chat_tiny.jsonl"


def _examples(n: int = 6) -> list[dict[str, Any]]:
    return [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}],
             "meta": {"id": f"e{i}", "source": f"doc{i % 3}"}} for i in range(n)]


def test_non_utf8_bytes_name_line_offset_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"messages": []}\n{"messages": [], "x": "\xff"}\n')
    with pytest.raises(DataError) as err:
        read_jsonl(path)
    (problem,) = err.value.problems
    assert problem.where == f"{path}:2"
    assert problem.message.startswith("byte 0xff at byte offset 40 (line 2, column 24) is not UTF-8")
    with pytest.raises(DataError, match="is not UTF-8 text"):
        check_file(path)


def test_line_endings_are_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\r\n{"a": 2}\r{"a": 3}\n')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_empty_file_is_not_clean(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    with pytest.warns(FathomWarning, match="holds no examples"):
        result = check_file(empty)
    assert result.empty and result.summary().endswith(": empty, no examples to check")


def test_split_and_convert_of_an_empty_file_fail(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="nothing to split") as err:
        split_file(empty, tmp_path / "splits")
    assert err.value.exit_code == 2 and not (tmp_path / "splits").exists()
    with pytest.raises(DataError, match="nothing to convert"):
        convert_file(empty, tmp_path / "out.jsonl", to="openai")
    assert not (tmp_path / "out.jsonl").exists()


def test_group_key_no_example_has_names_the_keys_seen() -> None:
    with pytest.raises(ConfigError) as err:
        split_examples(_examples(), group_key="meta.sorce")
    text = str(err.value)
    assert "no example has 'meta.sorce'" in text and "keys seen under 'meta': meta.id, meta.source" in text
    with pytest.raises(ConfigError, match="keys seen: messages, meta"):
        split_examples(_examples(), group_key="metadata.source")


def test_group_key_some_examples_have_is_accepted() -> None:
    examples = _examples()
    examples[0]["meta"]["doc"] = "d0"
    splits = split_examples(examples, {"train": 0.5, "test": 0.5}, group_key="meta.doc")
    assert sum(map(len, splits.values())) == len(examples)


def test_default_group_key_may_be_absent() -> None:
    examples = [{k: v for k, v in ex.items() if k != "meta"} for ex in _examples()]
    assert sum(map(len, split_examples(examples).values())) == len(examples)


def test_split_file_with_unknown_group_key_writes_nothing(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "all.jsonl", _examples())
    with pytest.raises(ConfigError, match=r"no example has 'meta\.nosuch'"):
        split_file(src, tmp_path / "splits", group_key="meta.nosuch")
    assert not (tmp_path / "splits").exists()
