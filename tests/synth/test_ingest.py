"""Reading documents: text, Markdown, HTML, PDF (made here, with fpdf2 and by hand) and CSV records."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from tests.synth.conftest import Workspace

from fathom.errors import ConfigError, FathomWarning
from fathom.synth import Embedder, read_documents, run_synth

PDF_LINES = ["Coolant pump CP-7 must be flushed every 90 days.", "Its seal kit is part SK-44."]


def handmade_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a Helvetica text layer, offsets computed (no library)."""
    stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    data = zlib.compress(stream.encode("latin-1"))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def fpdf2_pdf(lines: list[str], second_page: str | None = None) -> bytes:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    if second_page:
        pdf.add_page()
        pdf.cell(0, 10, second_page)
    return bytes(pdf.output())


@pytest.mark.parametrize("make", [handmade_pdf, fpdf2_pdf], ids=["handmade", "fpdf2"])
def test_a_pdf_is_parsed_and_its_facts_reach_the_examples(make, workspace: Workspace, embedder: Embedder,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    config = workspace({"manuals/pump.pdf": make(PDF_LINES)}, splits={"train": 1.0})
    summary = run_synth(config, tmp_path / "out", embedder=embedder)
    rows = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    assert summary.kept == len(rows) >= 3 and {r["meta"]["source"] for r in rows} == {"manuals/pump.pdf"}
    facts = [r for r in rows if r["meta"]["category"] == "fact"]
    assert facts and all(q in PDF_LINES for r in facts for q in r["meta"]["quotes"])  # the PDF's own sentences
    assert all(r["messages"][-1]["content"] in PDF_LINES for r in facts)
    assert all("SK-44" in r["messages"][1]["content"] for r in rows)  # the asset named in the last sentence
    assert all(r["meta"]["pages"] == [1, 1] for r in rows)


def test_a_two_page_pdf_keeps_its_page_numbers(tmp_path: Path) -> None:
    pytest.importorskip("fpdf")
    (tmp_path / "pump.pdf").write_bytes(fpdf2_pdf(PDF_LINES, "Page two: the CP-7 impeller is bronze."))
    [doc] = read_documents(tmp_path)
    assert doc.kind == "pdf" and doc.metadata["pages"] == 2
    assert "CP-7 must be flushed every 90 days." in doc.text and "impeller is bronze" in doc.text
    assert doc.text.index("impeller") >= doc.metadata["page_starts"][1]


def test_html_text_keeps_paragraphs_and_drops_scripts(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<html><head><title>Pump  guide</title><style>p {color: red}</style></head><body>"
        "<h1>Pump P-3</h1><p>Flush it <b>monthly</b>.</p><script>var x = 'secret';</script>"
        "<ul><li>Check the seal.</li><li>Check the bearing.</li></ul><p>Line one<br>line two.</p></body></html>")
    [doc] = read_documents(tmp_path)
    assert doc.text == ("Pump P-3\n\nFlush it monthly.\n\nCheck the seal.\n\nCheck the bearing.\n\n"
                        "Line one\nline two.")
    assert doc.metadata == {"title": "Pump guide"} and doc.kind == "html"


def test_csv_rows_become_records_of_one_document(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "work.csv").write_text("asset,date,note\nP-1,2024-01-03,Seal replaced\n"
                                                "P-2,,\nP-3,2024-02-09,\"Bearing noisy, greased\"\n")
    [doc] = read_documents(tmp_path)
    assert doc.source == "logs/work.csv" and doc.kind == "csv"
    assert doc.text.split("\n\n") == ["asset: P-1\ndate: 2024-01-03\nnote: Seal replaced", "asset: P-2",
                                      "asset: P-3\ndate: 2024-02-09\nnote: Bearing noisy, greased"]
    assert doc.metadata["rows"] == [1, 2, 3] and len(doc.segments or ()) == 3


def test_sources_are_relative_paths_and_other_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "note.md").write_text("# Note\n\nValve V-1 is red.")
    (tmp_path / "z.txt").write_text("Fan F-1 is loud.")
    (tmp_path / ".hidden.txt").write_text("not read")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))
    with pytest.warns(FathomWarning) as caught:
        docs = read_documents(tmp_path)
    assert [d.source for d in docs] == ["a/b/note.md", "z.txt"]
    messages = " | ".join(str(w.message) for w in caught)
    assert "1 file(s) of unsupported types" in messages and "picture.png" in messages
    assert "1 unreadable document(s): latin1.txt" in messages and "not UTF-8" in messages


def test_a_folder_of_empty_documents_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text("  \n")
    with pytest.raises(ConfigError, match=r"no document in .* has any text"):
        read_documents(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_documents(tmp_path / "missing")
