"""The plant's documents: OEM manuals, a service bulletin, site rules, the fault-code table, the maintenance log.

What a maintenance team has on its shared drive, in the forms vendors ship (all written for Fathom):

=========================================  =======  ===============================================
file                                       form     what
=========================================  =======  ===============================================
``former-1_manual.pdf``                    PDF      Kessler RM-850 rotary moulder, operating instructions
``camera-1_manual.md``                     markdown Optivance QX-3 inspection camera, user guide
``tunnel-1_manual.txt``                    text     Nordkyl CT-24 cooling tunnel, O&M manual
``mixer-1_manual.txt``                     text     Hartwell HMX-600 dough mixer, service manual
``oven-1_manual.txt``                      text     Thermaline TL-40 band oven, operator handbook
``wrapper-1_manual.txt``                   text     Pakwell FW-300 flow wrapper, quick reference
``oven-1_service_bulletin_SB-2025-07.txt`` text     band slip on TL-40 ovens
``site_safety.txt``                        text     line 1 site rules: LOTO, guards, PPE, HACCP
``fault_codes.csv``                        CSV      code, device, meaning, severity, action
``<device>_maintenance_log.csv`` (x6)      CSV      date, device, type, code, work, technician, hours
=========================================  =======  ===============================================

The maintenance log is one file per machine (the CMMS's per-asset export), so a train/test split by
document can hold every document of a machine out. Manuals are YAML data (:mod:`.manuals`) rendered
by :mod:`._render`; their fault-code, operating-value and schedule tables come from :mod:`.plant` and
:mod:`.maintenance`. Output is deterministic: the same call writes the same bytes (the PDF has a fixed
creation date).

Covers: :class:`Document`, :class:`Passage`, :func:`documents`, :func:`passages`, :func:`write_documents`.
Not covered: searching them (:mod:`.tools`), turning them into training examples (``fathom.synth``).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from fathom._files import atomic_dir
from fathom.domains.factory._render import Spec, parse_spec, render_markdown, render_pdf, render_text, section_texts
from fathom.domains.factory.maintenance import LOG_FIELDS, log_rows, maintenance_log
from fathom.domains.factory.plant import DEVICES, FAULT_CODES
from fathom.errors import OutputError

__all__ = ["FAULT_FIELDS", "Document", "Passage", "documents", "passages", "write_documents"]

FAULT_FIELDS = ("code", "device", "meaning", "severity", "action")
"""Columns of ``fault_codes.csv``."""

Kind = Literal["manual", "bulletin", "site", "fault_table", "maintenance_log"]


@dataclass(frozen=True)
class Document:
    """One document: its file name, device (None for site-wide ones), form and content."""

    name: str
    device: str | None
    kind: Kind
    title: str
    text: str
    """The text a reader sees (for the PDF: the same content as plain text)."""
    data: bytes
    """The file's bytes as written."""


@dataclass(frozen=True)
class Passage:
    """A searchable piece of a document: one manual section, or one row of the fault-code table."""

    source: str
    """File name of the document."""
    device: str | None
    heading: str
    text: str


def _specs() -> list[Spec]:
    folder = resources.files("fathom.domains.factory.manuals")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    return [parse_spec(yaml.safe_load(folder.joinpath(n).read_text("utf-8")), n) for n in names]


def _csv(fields: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@cache
def documents() -> tuple[Document, ...]:
    """Every document of the plant, sorted by file name."""
    found = []
    for spec in _specs():
        kind: Kind = "site" if spec.device is None else "bulletin" if "bulletin" in spec.file else "manual"
        text = render_markdown(spec) if spec.file.endswith(".md") else render_text(spec)
        data = render_pdf(spec) if spec.file.endswith(".pdf") else text.encode("utf-8")
        found.append(Document(spec.file, spec.device, kind, spec.title, text, data))
    table = _csv(FAULT_FIELDS, [{k: getattr(f, k) for k in FAULT_FIELDS} for f in FAULT_CODES])
    found.append(Document("fault_codes.csv", None, "fault_table", "Line 1 fault codes", table, table.encode()))
    log = maintenance_log()
    for d in DEVICES:  # one file per machine, so a split by document can hold a whole machine out
        rows = _csv(LOG_FIELDS, log_rows(tuple(e for e in log if e.device == d.id)))
        found.append(Document(f"{d.id}_maintenance_log.csv", d.id, "maintenance_log", f"{d.id} maintenance log", rows,
                              rows.encode()))
    return tuple(sorted(found, key=lambda d: d.name))


@cache
def passages() -> tuple[Passage, ...]:
    """What ``search_manuals`` searches: each section of the manuals, bulletin and site rules, and each
    fault code (the maintenance log has its own tool)."""
    found = [Passage(spec.file, spec.device, heading, f"{spec.title}\n{heading}\n{text}")
             for spec in _specs() for heading, text in section_texts(spec)]
    found += [Passage("fault_codes.csv", f.device, f.code,
                      f"{f.code} ({f.device}, {f.severity}): {f.meaning}. Action: {f.action}") for f in FAULT_CODES]
    return tuple(found)


def write_documents(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every document into ``out_dir`` (created if missing; other files there are kept).

    Returns:
        The paths written, sorted.

    Raises:
        OutputError: ``out_dir`` exists and is not a folder.
    """
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} is a file; documents are written into a folder: give a folder path")
    with atomic_dir(target, exists="merge") as tmp:
        for doc in documents():
            (tmp / doc.name).write_bytes(doc.data)
    return sorted(target / doc.name for doc in documents())
