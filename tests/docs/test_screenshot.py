"""``scripts/screenshot.py``: an evaluation report renders in headless Chromium with its plots visible."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from fathom.backends import ChatRequest, Completion
from fathom.errors import FathomError, MissingDependencyError
from fathom.evaluate import evaluate
from fathom.graders import Grade

BAR_BLUE = (31, 119, 180)
"""matplotlib's first colour: the component bars."""
HISTOGRAM_BLUE = (59, 125, 216)
"""The score histogram's colour (fathom.evaluate._plots)."""


class HalfRight:
    """Scripted backend: echoes the prompt, upper-cased for every other request."""

    supports_batching: ClassVar[bool] = True
    model_name = "half-right"

    def generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for i, request in enumerate(requests):
            text = request.messages[-1]["content"]
            text = text.upper() if i % 2 else text
            out.append(Completion({"role": "assistant", "content": text}, text))
        return out


def same_upper(example: dict[str, Any], completion: dict[str, Any]) -> Grade:
    ok = float(completion["content"] == example["reference"]["text"])
    return Grade(ok, {"match": ok, "short": float(len(completion["content"]) < 6)}, {}, "" if ok else "differs")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    examples = [{"messages": [{"role": "user", "content": f"word{i}"}], "reference": {"text": f"WORD{i}"}}
                for i in range(12)]
    out = tmp_path_factory.mktemp("eval-run")
    evaluate(HalfRight(), examples, same_upper, out, quiet=True)
    return out / "report.html"


def skip_or_fail_under_ci(message: str) -> None:
    """Skip on a developer machine, fail under CI (``CI=true``): CI must never pass by skipping."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true, so this fails instead of skipping; .ci/run installs it)")
    pytest.skip(message)


def test_missing_browser_skips_locally_but_fails_under_ci(screenshot_script: ModuleType, report: Path,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screenshot_script, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no chromium on PATH.*CI=true"):
        test_report_screenshot_shows_the_plots(screenshot_script, report, tmp_path)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no chromium on PATH"):
        test_report_screenshot_shows_the_plots(screenshot_script, report, tmp_path)


def test_report_screenshot_shows_the_plots(screenshot_script: ModuleType, report: Path, tmp_path: Path) -> None:
    if screenshot_script.find_chromium() is None:
        skip_or_fail_under_ci("no chromium on PATH (apt-get install chromium)")
    if importlib.util.find_spec("PIL") is None:
        skip_or_fail_under_ci("Pillow (a matplotlib dependency) is not installed")
    from PIL import Image

    png = screenshot_script.screenshot(report, tmp_path / "shot.png", width=900, height=1400)
    assert png.stat().st_size > 20_000
    with Image.open(png) as image:
        assert image.size == (900, 1400)
        rgb = image.convert("RGB")
        colours = {colour: count for count, colour in rgb.getcolors(rgb.width * rgb.height)}
    white = colours.get((255, 255, 255), 0)
    assert white < 0.95 * 900 * 1400  # text, tables and plots, not a blank page
    assert colours.get(BAR_BLUE, 0) > 5_000  # the component bars were decoded and drawn
    assert colours.get(HISTOGRAM_BLUE, 0) > 1_000  # and so was the score histogram


def test_missing_page_and_missing_or_failing_browser(screenshot_script: ModuleType, report: Path,
                                                     tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not a file"):
        screenshot_script.screenshot(tmp_path / "nope.html", tmp_path / "x.png")
    with pytest.raises(MissingDependencyError, match="apt-get install chromium"):
        screenshot_script.screenshot(report, tmp_path / "x.png", chromium=str(tmp_path / "no-such-browser"))
    false = Path("/bin/false")
    if not false.exists():
        skip_or_fail_under_ci("/bin/false is not available")
    with pytest.raises(FathomError, match="Chromium exited with 1 and did not write"):
        screenshot_script.screenshot(report, tmp_path / "x.png", chromium=str(false))


def test_command_line_reports_errors(screenshot_script: ModuleType, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert screenshot_script.main([str(tmp_path / "nope.html"), str(tmp_path / "x.png")]) == 1
    assert "error:" in capsys.readouterr().err


def test_chromium_command_keeps_the_browser_offline(screenshot_script: ModuleType, tmp_path: Path) -> None:
    command = screenshot_script.chromium_command("chromium", tmp_path / "p.html", tmp_path / "o.png",
                                                 tmp_path / "profile", 1200, 2400)
    for flag in ("--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--window-size=1200,2400", f"--screenshot={tmp_path / 'o.png'}",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        assert flag in command
    assert command[-1] == (tmp_path / "p.html").as_uri()
