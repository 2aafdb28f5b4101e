"""The stages the shipping-forecast-more recipe adds: ``general_text``, ``shipping_corpus`` and ``distill``'s checks,
and rule-based model specs in recipe checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.recipes._edit import edited_recipe

from fathom.errors import ConfigError
from fathom.recipes import StageContext, load_recipe
from fathom.recipes._stages import stage_function, stage_outputs

MORE = Path(__file__).resolve().parents[2] / "recipes" / "shipping-forecast-more.yaml"


def _ctx(tmp_path: Path, name: str) -> StageContext:
    out = tmp_path / name
    out.mkdir()
    return StageContext(name=name, out_dir=out, recipe="t", quiet=True)


def test_general_text_is_the_standard_librarys_prose_in_a_fixed_order(tmp_path: Path) -> None:
    stage = stage_function("general_text")
    assert stage is not None and stage_outputs(stage) == {"corpus", "documents", "words", "dir"}
    out = stage(_ctx(tmp_path, "a"))
    again = stage(_ctx(tmp_path, "b"))
    rows = [json.loads(line) for line in Path(out["corpus"]).read_text(encoding="utf-8").splitlines()]
    assert out["documents"] == len(rows) > 100 and out["words"] > 20_000
    assert Path(out["corpus"]).read_bytes() == Path(again["corpus"]).read_bytes()
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts) and all(len(t) >= 300 for t in texts)
    assert any("regular expression" in t for t in texts)
    with pytest.raises(ConfigError, match="min_chars"):
        stage(_ctx(tmp_path, "c"), min_chars=0)


def test_shipping_corpus_writes_whole_bulletins_that_parse_back(tmp_path: Path) -> None:
    from fathom.domains.shipping import parse_bulletin

    stage = stage_function("shipping_corpus")
    assert stage is not None
    out = stage(_ctx(tmp_path, "corpus"), bulletins=3)
    files = sorted(Path(out["corpus"]).glob("*.txt"))
    assert [f.name for f in files] == ["bulletin-0000.txt", "bulletin-0001.txt", "bulletin-0002.txt"]
    texts = [f.read_text(encoding="utf-8") for f in files]
    assert len(set(texts)) == 3 and out["words"] == sum(len(t.split()) for t in texts)
    assert all(t.startswith("The shipping forecast issued at") for t in texts)
    assert all(len(parse_bulletin(t)) >= 10 for t in texts)  # the writer's own bulletins read back
    with pytest.raises(ConfigError, match="bulletins: must be at least 1"):
        stage(_ctx(tmp_path, "none"), bulletins=0)


def test_a_rule_model_spec_is_checked_against_the_registered_rule_models(tmp_path: Path) -> None:
    load_recipe(MORE)  # rule:shipping-writer is registered by the shipping domain
    path = edited_recipe(MORE, tmp_path, lambda s: s["writer"].update(model="rule:shiping-writer"))
    with pytest.raises(ConfigError) as info:
        load_recipe(path)
    (problem,) = [str(p) for p in info.value.problems]
    assert problem.startswith("stages.writer.model: unknown rule-based model 'rule:shiping-writer'. "
                              "Did you mean 'shipping-writer'?")
