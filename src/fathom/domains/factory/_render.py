"""Rendering one document spec (a YAML file of :mod:`.manuals`) as plain text, markdown or PDF.

Each vendor's manual is written once as data; these renderers give it the form its vendor uses. The
tables a manual shows (fault codes, operating values, the maintenance schedule) are filled from the
plant's own tables, so a code or a setpoint has one home. PDFs are written with ``fpdf2`` in its
built-in Helvetica (Latin-1 only: typographic dashes and quotes become ASCII first), with a fixed
creation date so the same spec gives the same bytes.

Not covered: which documents exist and where they are written (:mod:`.docs`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fathom.domains.factory.maintenance import PREVENTIVE
from fathom.domains.factory.plant import device, fault_code, fault_codes_of

__all__ = ["Spec", "parse_spec", "render_markdown", "render_pdf", "render_text", "section_texts"]

_WIDTH = 90
_ASCII = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "→": "->"})
_PDF_DATE = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    """One document as written in its YAML file."""

    file: str
    device: str | None
    title: str
    publisher: str
    doc_no: str
    sections: tuple[dict[str, Any], ...] = field(default=())


def parse_spec(data: Any, where: str) -> Spec:
    """Check and wrap a loaded YAML document; raises ValueError naming the file and the key (a packaging bug)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
    missing = [k for k in ("file", "title", "publisher", "doc_no", "sections") if k not in data]
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
    if data.get("device") is not None:
        device(data["device"])
    for i, section in enumerate(data["sections"]):
        kinds = [k for k in ("body", "fault_codes", "operating_values", "schedule", "procedures") if k in section]
        if "heading" not in section or len(kinds) != 1:
            raise ValueError(f"{where}: sections[{i}] needs a heading and exactly one of body, fault_codes, "
                             f"operating_values, schedule, procedures (has {kinds or 'none'})")
        for code, steps in section.get("procedures", {}).items():
            if fault_code(code).device != data["device"]:
                raise ValueError(f"{where}: procedure for {code}, which is not a fault code of {data['device']}")
            if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
                raise ValueError(f"{where}: the steps of {code} must be a list of strings (quote a step that "
                                 f"holds ': ')")
    return Spec(data["file"], data.get("device"), data["title"], data["publisher"], data["doc_no"],
                tuple(data["sections"]))


def _paragraphs(body: str) -> list[str]:
    return [" ".join(p.split()) for p in body.strip().split("\n\n") if p.strip()]


def _codes(spec: Spec) -> list[tuple[str, str, str, str]]:
    return [(f.code, f.severity, f.meaning, f.action) for f in fault_codes_of(spec.device or "")]


def _values(spec: Spec) -> list[tuple[str, str, str]]:
    return [(s.label, f"{s.nominal:g} {s.unit}", s.name) for s in device(spec.device or "").sensors]


def _schedule(spec: Spec) -> list[tuple[str, str, str]]:
    return [(f"every {t.every_days} days", t.work, f"{t.hours:g} h") for t in PREVENTIVE if t.device == spec.device]


def _header(spec: Spec) -> list[str]:
    asset = f"Controlled copy - Plant 1, line 1, asset {spec.device}" if spec.device else "Site document - Plant 1"
    return [spec.publisher.upper(), spec.title, spec.doc_no, asset]


# --------------------------------------------------------------------------- plain text

def section_texts(spec: Spec) -> Iterator[tuple[str, str]]:
    """(heading, plain text) of each section: what search and the plain-text form show."""
    for section in spec.sections:
        yield section["heading"], "\n".join(_text_lines(spec, section))


def _text_lines(spec: Spec, section: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "body" in section:
        for paragraph in _paragraphs(section["body"]):
            lines += [*textwrap.wrap(paragraph, _WIDTH), ""]
    elif "fault_codes" in section:
        lines.append(f"{'CODE':<9}{'SEVERITY':<10}MEANING / FIRST ACTION")
        for code, severity, meaning, action in _codes(spec):
            lines.append(f"{code:<9}{severity:<10}{meaning}")
            lines += textwrap.wrap(f"-> {action}", _WIDTH, initial_indent=" " * 19, subsequent_indent=" " * 22)
        lines.append("")
    elif "operating_values" in section:
        for label, value, name in _values(spec):
            lines.append(f"  {label + ' ':.<36} {value:<12} (signal {name})")
        lines.append("")
    elif "schedule" in section:
        for every, work, hours in _schedule(spec):
            lines += textwrap.wrap(f"{every:<16}{work} ({hours})", _WIDTH, subsequent_indent=" " * 18)
        lines.append("")
    else:
        for code, steps in section["procedures"].items():
            lines.append(f"{code}  {fault_code(code).meaning}")
            for n, step in enumerate(steps, 1):
                lines += textwrap.wrap(f"{n}. {' '.join(step.split())}", _WIDTH, initial_indent="  ",
                                       subsequent_indent="     ")
            lines.append("")
    return lines


def render_text(spec: Spec) -> str:
    """The document as a plain-text manual: a header block, numbered upper-case headings."""
    out = [*_header(spec), "=" * _WIDTH, ""]
    for n, (heading, text) in enumerate(section_texts(spec), 1):
        title = heading.upper() if heading[:1].isdigit() else f"{n}. {heading.upper()}"
        out += [title, "-" * len(title), text.rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- markdown

def render_markdown(spec: Spec) -> str:
    """The document as a markdown page: tables for codes and values, numbered lists for procedures."""
    _, title, doc_no, asset = _header(spec)
    out = [f"# {title}", "", f"*{spec.publisher} · {doc_no}*", "", f"> {asset}", ""]
    for section in spec.sections:
        out += [f"## {section['heading']}", ""]
        if "body" in section:
            for paragraph in _paragraphs(section["body"]):
                out += [paragraph, ""]
        elif "fault_codes" in section:
            out += _md_table(("Code", "Severity", "Meaning", "First action"), _codes(spec))
        elif "operating_values" in section:
            out += _md_table(("Quantity", "Normal value", "Signal"), [(a, b, f"`{c}`") for a, b, c in _values(spec)])
        elif "schedule" in section:
            out += _md_table(("Interval", "Task", "Time"), _schedule(spec))
        else:
            for code, steps in section["procedures"].items():
                out += [f"### {code} — {fault_code(code).meaning}", ""]
                out += [f"{n}. {' '.join(step.split())}" for n, step in enumerate(steps, 1)] + [""]
    return "\n".join(out).rstrip() + "\n"


def _md_table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]


# --------------------------------------------------------------------------- PDF

def render_pdf(spec: Spec) -> bytes:
    """The document as an A4 PDF (fpdf2): bold numbered headings, ruled tables, numbered steps."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_PDF_DATE)
    pdf.set_title(_latin1(spec.title))
    pdf.set_author(_latin1(spec.publisher))
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    publisher, title, doc_no, asset = (_latin1(s) for s in _header(spec))
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 5, publisher, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, f"{doc_no}\n{asset}", new_x="LMARGIN", new_y="NEXT")
    for section in spec.sections:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin1(section["heading"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        if "body" in section:
            for paragraph in _paragraphs(section["body"]):
                pdf.multi_cell(0, 5, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
        elif "fault_codes" in section:
            _pdf_table(pdf, ("Code", "Severity", "Meaning", "First action"), _codes(spec), (18, 18, 52, 86))
        elif "operating_values" in section:
            _pdf_table(pdf, ("Quantity", "Normal value", "Signal"), _values(spec), (64, 40, 70))
        elif "schedule" in section:
            _pdf_table(pdf, ("Interval", "Task", "Time"), _schedule(spec), (30, 124, 20))
        else:
            for code, steps in section["procedures"].items():
                pdf.set_font("Helvetica", "B", 10)
                pdf.multi_cell(0, 6, _latin1(f"{code} - {fault_code(code).meaning}"), new_x="LMARGIN", new_y="NEXT")
                pdf.set_font("Helvetica", "", 10)
                for n, step in enumerate(steps, 1):
                    pdf.multi_cell(0, 5, _latin1(f"{n}. {' '.join(step.split())}"), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
    return bytes(pdf.output())


def _pdf_table(pdf: Any, head: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: tuple[int, ...]) -> None:
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.5) as table:
        for row in (head, *rows):
            cells = table.row()
            for value in row:
                cells.cell(_latin1(value))
    pdf.set_font("Helvetica", "", 10)


def _latin1(text: str) -> str:
    """``text`` in what Helvetica can show: typographic punctuation made ASCII; raises for anything else."""
    plain = text.translate(_ASCII)
    plain.encode("latin-1")  # a character outside Latin-1 in a PDF manual is a content bug: fail loudly
    return plain
