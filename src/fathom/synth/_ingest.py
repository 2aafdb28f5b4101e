"""Reading a folder of documents into :class:`~fathom.synth.Document` s.

Covers: plain text (``.txt``, ``.text``, ``.rst``) and Markdown (``.md``, ``.markdown``) as they
are; HTML (``.html``, ``.htm``) through ``lxml`` (scripts, styles and the head dropped, one blank line
after each block element, so paragraphs stay apart); PDF through ``pypdf`` (the text layer, pages
joined by blank lines, page starts kept so a chunk can name its pages); CSV as records.

CSV: every data row becomes one record of ``header: value`` lines, records are separated by a blank
line and the chunker keeps each record whole. The *file* is the document (``source`` = its path), not
the row, because splits are grouped by ``source``: rows of one file share machines, dates and
phrasing, and a question about row 5 is often answered by row 6, so putting rows of one file into
both train and test would leak. The row numbers (1-based, header not counted) stay in the chunk
metadata (``rows``) for provenance.

Every ``source`` is the path relative to the documents folder with ``/`` separators, so it is the
same on every machine. Hidden files and folders (a leading ``.``) are skipped; files of other types
and files without any text (a scanned PDF) are skipped with a warning. Not covered: OCR, DOCX/PPTX,
spreadsheets other than CSV.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from fathom._textfile import read_utf8
from fathom.errors import ConfigError, DataError, FathomWarning, MissingDependencyError, Problem
from fathom.synth._types import Document

__all__ = ["SUFFIXES", "read_document", "read_documents"]

_TEXT = {".txt": "text", ".text": "text", ".rst": "text", ".md": "markdown", ".markdown": "markdown"}
SUFFIXES: tuple[str, ...] = (*_TEXT, ".html", ".htm", ".pdf", ".csv")
"""File suffixes that are read (case-insensitive)."""
_BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "h1", "h2", "h3", "h4",
           "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "pre", "blockquote", "figure",
           "figcaption", "hr", "form", "fieldset", "address", "caption"}
_DROP = ("script", "style", "noscript", "template", "head", "svg")


def read_documents(folder: str | os.PathLike[str]) -> list[Document]:
    """Every readable document below ``folder``, sorted by ``source``.

    Files of other types, files that cannot be parsed (not UTF-8, a broken PDF) and files without text
    are skipped, each kind with one :class:`~fathom.errors.FathomWarning` naming them.

    Raises:
        ConfigError: the folder is missing, is a file, or holds no readable document (the message
            says what it found: nothing, only unsupported types, or only files without text).
        MissingDependencyError: a PDF is present and ``pypdf`` is not installed.
    """
    root = Path(folder)
    if not root.is_dir():
        what = "is a file" if root.exists() else "does not exist"
        raise ConfigError([Problem("documents", f"{root} {what}; point it at a folder of .txt, .md, .html, "
                                                f".pdf or .csv files")])
    files = sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p.relative_to(root)))
    other = [p for p in files if p.suffix.lower() not in SUFFIXES]
    documents: list[Document] = []
    empty: list[Document] = []
    broken: list[str] = []
    for path in (p for p in files if p.suffix.lower() in SUFFIXES):
        try:
            doc = read_document(path, root)
        except DataError as exc:
            broken.append(f"{path.relative_to(root).as_posix()} ({exc.problems[0].message if exc.problems else exc})")
            continue
        (documents if doc.text.strip() else empty).append(doc)
    if not documents:
        raise ConfigError([Problem("documents", _nothing_readable(root, files, other, empty, broken))])
    skipped = [
        (other, f"{len(other)} file(s) of unsupported types in {root}: "
                f"{_some(str(p.relative_to(root)) for p in other)} (read: {' '.join(SUFFIXES)})"),
        (broken, f"{len(broken)} unreadable document(s): {_some(broken, '; ')}"),
        (empty, f"{len(empty)} document(s) without text: {_some(d.source for d in empty)} (a scanned PDF has "
                "no text layer; OCR it first)"),
    ]
    for items, message in skipped:
        if items:
            warnings.warn(f"skipped {message}", FathomWarning, stacklevel=2)
    return documents


def _some(names: Iterable[str], sep: str = ", ", limit: int = 5) -> str:
    listed = list(names)
    return sep.join(listed[:limit]) + (" ..." if len(listed) > limit else "")


def _nothing_readable(root: Path, files: list[Path], other: list[Path], empty: list[Document],
                      broken: list[str]) -> str:
    if not files:
        return f"{root} is empty (hidden files are not read); put the documents to learn from in it"
    if broken:
        return f"no document in {root} could be read: {'; '.join(broken[:5])}"
    if empty:
        return (f"no document in {root} has any text ({len(empty)} empty: "
                f"{', '.join(d.source for d in empty[:5])}); a scanned PDF needs OCR first")
    return (f"no readable document in {root}: {len(other)} file(s) of unsupported types "
            f"({', '.join(sorted({p.suffix or p.name for p in other}))}); supported: {' '.join(SUFFIXES)}")


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def read_document(path: Path, root: Path) -> Document:
    """One file as a :class:`Document` whose ``source`` is ``path`` relative to ``root``.

    Raises:
        DataError: the file cannot be parsed (not UTF-8, a broken PDF), naming the file.
        MissingDependencyError: a PDF without ``pypdf`` installed.
    """
    source = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path, str], Document]] = {".html": _html, ".htm": _html, ".pdf": _pdf,
                                                          ".csv": _csv}
    if suffix in readers:
        return readers[suffix](path, source)
    return Document(source=source, text=_tidy(read_utf8(path)), kind=_TEXT[suffix])


def _tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _html(path: Path, source: str) -> Document:
    import lxml.etree  # type: ignore[import-untyped]
    import lxml.html  # type: ignore[import-untyped]

    raw = path.read_bytes()
    try:
        root = lxml.html.document_fromstring(raw)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise DataError([Problem(source, f"not parseable as HTML: {exc}")], title=f"cannot read {path}") from exc
    titles = root.xpath("//title/text()")
    for element in list(root.iter(*_DROP)):
        element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        tag = element.tag.lower()
        if tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif tag in ("td", "th"):
            element.tail = " | " + (element.tail or "")
        elif tag in _BLOCKS:
            element.tail = "\n\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    text = _tidy("\n".join(lines))
    title = " ".join(str(titles[0]).split()) if titles else ""
    return Document(source=source, text=text, kind="html", metadata={"title": title} if title else {})


def _pdf(path: Path, source: str) -> Document:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise MissingDependencyError(f"pypdf (to read {source})", "pip install 'fathom[synth]'") from exc
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [_tidy(page.extract_text() or "") for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise DataError([Problem(source, f"not a readable PDF ({type(exc).__name__}: {exc}); re-export it, or "
                                         "remove it from the documents folder")],
                        title=f"cannot read {path}") from exc
    text, starts = "", []
    for page in pages:
        if text and page:
            text += "\n\n"
        starts.append(len(text))
        text += page
    return Document(source=source, text=text, kind="pdf", metadata={"pages": len(pages), "page_starts": starts})


def _csv(path: Path, source: str) -> Document:
    content = read_utf8(path).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(content, newline="")))
    if not rows:
        return Document(source=source, text="", kind="csv")
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
    text, spans, numbers = "", [], []
    for number, row in enumerate(rows[1:], 1):
        fields = [(header[i] if i < len(header) else f"column {i + 1}", " ".join(v.split()))
                  for i, v in enumerate(row)]
        record = "\n".join(f"{name}: {value}" for name, value in fields if value)
        if not record:
            continue
        if text:
            text += "\n\n"
        spans.append((len(text), len(text) + len(record)))
        numbers.append(number)
        text += record
    starts = [start for start, _ in spans]
    return Document(source=source, text=text, kind="csv", segments=tuple(spans),
                    metadata={"rows": numbers, "row_starts": starts})
