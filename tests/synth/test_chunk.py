"""Chunking: sizes in the target tokenizer, whole sentences only, overlap that is really applied.

synthetic-data-kit declares an ``overlap`` it never applies; these tests fail if ours is ignored. The
last test measures ``semchunk`` on the same text to record why the sentence packer is ours.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from fathom.errors import ConfigError
from fathom.synth import Document, chunk_document, chunk_documents, load_token_counter, sentence_spans

TEXT = " ".join(f"Station S-{i} checks valve V-{i} at {i * 10} bar every {i + 1} days." for i in range(40))
WRAPPED = ("The coolant pump must be flushed\nevery ninety days with the\nrecommended cleaner. Dr. Lee, who wrote "
           "the manual, says e.g. water is not enough.\n\n## Filters\n\n- Replace the filter.\n- Check the seal.")


def _boundaries(document: Document) -> tuple[set[int], set[int]]:
    spans = sentence_spans(document.text)
    return {s for s, _ in spans}, {e for _, e in spans}


@pytest.fixture(scope="module")
def count(tokenizer_file: Path):  # type: ignore[no-untyped-def]
    return load_token_counter(tokenizer_file)


def test_sentences_are_found_and_wrapped_lines_kept_whole() -> None:
    sentences = [WRAPPED[s:e] for s, e in sentence_spans(WRAPPED)]
    assert sentences == ["The coolant pump must be flushed\nevery ninety days with the\nrecommended cleaner.",
                         "Dr. Lee, who wrote the manual, says e.g. water is not enough.", "## Filters",
                         "- Replace the filter.", "- Check the seal."]


@pytest.mark.parametrize("overlap", [0, 12, 30])
def test_chunks_fit_keep_sentences_whole_and_overlap(count, overlap: int) -> None:  # type: ignore[no-untyped-def]
    doc = Document("valves.txt", TEXT, "text")
    chunks = chunk_document(doc, count, chunk_tokens=60, overlap_tokens=overlap)
    starts, ends = _boundaries(doc)
    assert len(chunks) > 3
    assert [c.id for c in chunks] == [f"valves.txt#{i}" for i in range(len(chunks))]
    for c in chunks:
        assert c.text == TEXT[c.metadata["start"]:c.metadata["end"]]
        assert c.metadata["start"] in starts and c.metadata["end"] in ends  # no sentence is cut
        assert count(c.text) == c.metadata["tokens"] <= 60
    for before, after in itertools.pairwise(chunks):
        repeated = before.metadata["end"] - after.metadata["start"]
        if overlap == 0:
            assert repeated <= 0 and after.metadata["overlap_units"] == 0
        else:  # the next chunk starts with the end of this one: whole sentences, within the budget
            assert repeated > 0 and before.text.endswith(TEXT[after.metadata["start"]:before.metadata["end"]])
            assert after.metadata["overlap_units"] >= 1
            assert count(TEXT[after.metadata["start"]:before.metadata["end"]]) <= max(overlap, 17)
    assert chunks[-1].metadata["end"] == len(TEXT)  # nothing is lost at the end
    covered = set().union(*(range(c.metadata["start"], c.metadata["end"]) for c in chunks))
    assert all(i in covered or TEXT[i] == " " for i in range(len(TEXT)))


def test_a_larger_overlap_repeats_more_sentences(count) -> None:  # type: ignore[no-untyped-def]
    doc = Document("valves.txt", TEXT, "text")
    small = chunk_document(doc, count, chunk_tokens=60, overlap_tokens=5)
    large = chunk_document(doc, count, chunk_tokens=60, overlap_tokens=35)
    assert {c.metadata["overlap_units"] for c in small[1:]} == {1}  # one sentence even past the budget
    assert {c.metadata["overlap_units"] for c in large[1:]} == {2}
    assert len(large) > len(small)


def test_an_oversized_sentence_stays_whole_in_a_chunk_of_its_own(count) -> None:  # type: ignore[no-untyped-def]
    long = "This sentence " + "goes on and on " * 20 + "until it ends."
    doc = Document("long.txt", f"A short one. {long} Another short one.", "text")
    chunks = chunk_document(doc, count, chunk_tokens=20, overlap_tokens=4)
    assert [c.text for c in chunks if c.metadata["oversized"]] == [long]
    assert chunks[0].text == "A short one." and chunks[-1].text.endswith("Another short one.")


def test_records_are_kept_whole(count) -> None:  # type: ignore[no-untyped-def]
    text = "\n\n".join(f"id: {i}\nnote: Valve V-{i} was replaced. It leaked." for i in range(6))
    spans, start = [], 0
    for i in range(6):
        record = f"id: {i}\nnote: Valve V-{i} was replaced. It leaked."
        spans.append((start, start + len(record)))
        start += len(record) + 2
    doc = Document("log.csv", text, "csv", segments=tuple(spans),
                   metadata={"rows": list(range(1, 7)), "row_starts": [s for s, _ in spans]})
    chunks = chunk_document(doc, count, chunk_tokens=30, overlap_tokens=1)
    records = {text[s:e] for s, e in spans}
    for c in chunks:
        assert all(part in records for part in c.text.split("\n\n"))
    assert chunks[0].metadata["rows"][0] == 1 and chunks[-1].metadata["rows"][-1] == 6


def test_bad_sizes_are_config_errors(count) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="overlap_tokens: must be >= 0 and below chunk_tokens"):
        chunk_documents([Document("a.txt", "A.", "text")], count, chunk_tokens=10, overlap_tokens=10)


def test_a_tokenizer_folder_is_read_like_its_file(tokenizer_file: Path) -> None:
    assert load_token_counter(tokenizer_file.parent)("Pump P-1 runs.") == 6  # Pump P - 1 runs .


def test_semchunk_cuts_sentences_where_the_packer_does_not(count) -> None:  # type: ignore[no-untyped-def]
    """The measurement behind the choice in ``fathom.synth._chunk`` (semchunk 4.1, same sizes)."""
    semchunk = pytest.importorskip("semchunk")
    doc = Document("valves.txt", TEXT, "text")
    starts, ends = _boundaries(doc)
    ours = chunk_document(doc, count, chunk_tokens=60, overlap_tokens=12)
    theirs = semchunk.chunkerify(count, chunk_size=60)(TEXT, overlap=12)
    def cut(texts: list[str]) -> int:  # chunks that start or end inside a sentence
        positions = [(TEXT.find(t), TEXT.find(t) + len(t)) for t in texts]
        return sum(1 for s, e in positions if s not in starts or e not in ends)
    assert cut([c.text for c in ours]) == 0
    assert cut(theirs) > len(theirs) // 3


def test_sizes_hold_in_a_subword_tokenizer_saved_the_hugging_face_way(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator([TEXT], trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=bpe).save_pretrained(tmp_path / "tok")
    count = load_token_counter(tmp_path / "tok")
    assert count(TEXT) < len(TEXT) // 2  # merges happened: not one token per character
    doc = Document("valves.txt", TEXT, "text")
    chunks = chunk_document(doc, count, chunk_tokens=50, overlap_tokens=10)
    starts, ends = _boundaries(doc)
    assert len(chunks) > 5 and all(count(c.text) == c.metadata["tokens"] <= 50 for c in chunks)
    assert all(c.metadata["start"] in starts and c.metadata["end"] in ends for c in chunks)
    assert all(c.metadata["overlap_units"] >= 1 for c in chunks[1:])
