"""The plant's documents: every form written, deterministic, readable (the PDF by pypdf), and in
agreement with the plant's tables (fault codes, operating values, the preventive schedule)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest

from fathom.domains.factory import (
    DEVICES,
    FAULT_CODES,
    PLANT_DATE,
    PREVENTIVE,
    FactoryError,
    documents,
    maintenance_log,
    passages,
    write_documents,
)
from fathom.domains.factory.docs import FAULT_FIELDS
from fathom.domains.factory.maintenance import LOG_FIELDS
from fathom.errors import OutputError

LOGS = [f"{d.id}_maintenance_log.csv" for d in DEVICES]
EXPECTED = sorted([
    "camera-1_manual.md", "fault_codes.csv", "former-1_manual.pdf", "mixer-1_manual.txt", "oven-1_manual.txt",
    "oven-1_service_bulletin_SB-2025-07.txt", "site_safety.txt", "tunnel-1_manual.txt", "wrapper-1_manual.txt",
    *LOGS])


def _by_name() -> dict[str, str]:
    return {d.name: d.text for d in documents()}


def test_write_documents_writes_every_form_deterministically(tmp_path: Path) -> None:
    paths = write_documents(tmp_path / "docs")
    assert [p.name for p in paths] == EXPECTED
    again = write_documents(tmp_path / "again")
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(paths, again, strict=True))
    assert (tmp_path / "docs" / "former-1_manual.pdf").read_bytes().startswith(b"%PDF-")
    (tmp_path / "docs" / "mine.txt").write_text("kept")
    write_documents(tmp_path / "docs")
    assert (tmp_path / "docs" / "mine.txt").read_text() == "kept"


def test_writing_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        write_documents(tmp_path / "f")


def test_pypdf_reads_the_pdf_manual_with_its_fault_codes() -> None:
    pdf = next(d for d in documents() if d.name.endswith(".pdf"))
    reader = pypdf.PdfReader(io.BytesIO(pdf.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2 and reader.metadata is not None and "RM-850" in str(reader.metadata.title)
    assert "FRM-107" in text and "Forming pressure below 4.5 bar" in text
    assert "The RM-850 is a rotary moulder for short-dough biscuits." in text
    assert "forming_pressure_bar" in text and "former-1" in text
    for step in ("seal kit SK-850-3", "Never bridge the interlock."):
        assert step in " ".join(text.split())


def test_every_manual_lists_its_devices_codes_values_and_schedule() -> None:
    texts = _by_name()
    for d in DEVICES:
        name = next(n for n in texts if n.startswith(d.id + "_manual"))
        text = " ".join(texts[name].split())
        assert f"asset {d.id}" in text and d.model in text
        for fault in (f for f in FAULT_CODES if f.device == d.id):
            assert fault.code in text and fault.meaning in text, (name, fault.code)
        for s in d.sensors:
            assert s.name in text and f"{s.nominal:g} {s.unit}" in text, (name, s.name)
        for task in (t for t in PREVENTIVE if t.device == d.id):
            assert task.work in text, (name, task.work)


def test_every_code_any_document_mentions_exists() -> None:
    known = {f.code for f in FAULT_CODES} | {d.model for d in DEVICES}  # HMX-600 is a model that looks like a code
    for name, text in _by_name().items():
        assert set(re.findall(r"\b[A-Z]{3}-\d{3}\b", text)) <= known, name


def test_the_markdown_manual_is_markdown() -> None:
    text = _by_name()["camera-1_manual.md"]
    assert text.startswith("# QX-3 Inspector - User Guide\n")
    assert "| CAM-305 | major | Image contrast low (lens or window fouled) |" in text
    assert "### CAM-305 — Image contrast low (lens or window fouled)\n\n1. Switch the system to Standby." in text


def test_the_fault_code_table() -> None:
    rows = list(csv.DictReader(io.StringIO(_by_name()["fault_codes.csv"])))
    assert tuple(rows[0]) == FAULT_FIELDS
    assert [(r["code"], r["device"], r["severity"]) for r in rows] == [(f.code, f.device, f.severity)
                                                                        for f in FAULT_CODES]


def test_the_maintenance_logs() -> None:
    rows = []
    for d, name in zip(DEVICES, LOGS, strict=True):
        own = list(csv.DictReader(io.StringIO(_by_name()[name])))
        assert tuple(own[0]) == LOG_FIELDS and {r["device"] for r in own} == {d.id}
        dates = [r["date"] for r in own]
        assert dates == sorted(dates) and dates[-1] <= (PLANT_DATE - timedelta(days=1)).isoformat()
        rows += own
    assert len(rows) == len(maintenance_log())
    assert {r["work"] for r in rows if r["type"] == "preventive"} == {t.work for t in PREVENTIVE}
    corrective = [r for r in rows if r["type"] == "corrective"]
    assert len(corrective) >= 10 and all(r["code"] for r in corrective)
    assert sum(r["code"] == "TUN-231" for r in corrective) == 2  # the tunnel's icing history
    assert maintenance_log() == maintenance_log() != maintenance_log(seed=1)
    with pytest.raises(FactoryError, match="days=0 is out of range"):
        maintenance_log(days=0)


def test_passages_cover_manual_sections_and_each_fault_code() -> None:
    found = passages()
    assert {p.source for p in found} == set(EXPECTED) - set(LOGS)
    assert sum(p.source == "fault_codes.csv" for p in found) == len(FAULT_CODES)
    tunnel = [p for p in found if p.source == "tunnel-1_manual.txt"]
    assert all(p.device == "tunnel-1" for p in tunnel) and any(p.heading == "Troubleshooting" for p in tunnel)
