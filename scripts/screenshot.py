"""Screenshot an HTML page with headless Chromium, e.g. an evaluation ``report.html``.

Run:  .venv/bin/python scripts/screenshot.py runs/eval/report.html /tmp/report.png
      .venv/bin/python scripts/screenshot.py PAGE.html OUT.png --width 1200 --height 2400

Chromium runs headless with a throw-away profile and everything that would reach the network
switched off (sync, component updates, background networking, QUIC), so a page renders exactly
from its own file. Fathom's reports embed their plots as base64 PNGs, so a screenshot shows
whether the plots are really visible. Chromium's own chatter on stderr is hidden unless it fails.

Not covered: pixel comparison against a stored image, or pages that need a server. Needs a
``chromium`` (or ``chromium-browser`` / ``google-chrome``) on PATH, or ``--chromium PATH``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fathom.errors import FathomError, MissingDependencyError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executable names tried, in order, when no path is given."""


def find_chromium() -> str | None:
    """The first Chromium-like executable on PATH, or None."""
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def chromium_command(chromium: str, page: Path, out: Path, profile: Path, width: int, height: int) -> list[str]:
    """The headless Chromium command line that writes a ``width`` x ``height`` screenshot of ``page``."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}",
            f"--screenshot={out}", page.resolve().as_uri()]


def screenshot(page: str | Path, out: str | Path, *, width: int = 1200, height: int = 2400,
               chromium: str | None = None, timeout: float = 120.0) -> Path:
    """Render ``page`` in headless Chromium and write a PNG screenshot to ``out``.

    Args:
        page: the HTML file to open (as a ``file://`` URL).
        out: where the PNG goes (its folder is created).
        width: the window width in CSS pixels.
        height: the window height; content below it is cut off.
        chromium: the browser executable (default: the first of :data:`CANDIDATES` on PATH).
        timeout: seconds before the browser is killed.

    Returns:
        The path of the PNG.

    Raises:
        FileNotFoundError: ``page`` does not exist.
        MissingDependencyError: no Chromium was found.
        FathomError: Chromium failed, timed out, or wrote no screenshot (its stderr tail is included).
    """
    page, out = Path(page), Path(out).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"{page} is not a file; pass the HTML page to screenshot (e.g. RUN/report.html)")
    browser = shutil.which(chromium) if chromium else find_chromium()
    if browser is None:
        tried = repr(chromium) if chromium else f"none of {', '.join(CANDIDATES)} is on PATH"
        raise MissingDependencyError(f"Chromium ({tried}), which",
                                     "apt-get install chromium (Debian), or pass --chromium PATH")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="fathom-chromium-") as profile:
        command = chromium_command(browser, page, out, Path(profile), width, height)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise FathomError(f"Chromium did not finish within {timeout} s rendering {page}; "
                               f"raise --timeout or check that the page loads offline") from exc
    if done.returncode != 0 or not out.exists():
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise FathomError(f"Chromium exited with {done.returncode} and "
                           f"{'wrote' if out.exists() else 'did not write'} {out}. Its stderr ended:\n{tail}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, help="HTML file to render")
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--width", type=int, default=1200, help="window width in pixels (default 1200)")
    parser.add_argument("--height", type=int, default=2400, help="window height in pixels (default 2400)")
    parser.add_argument("--chromium", help="browser executable (default: chromium on PATH)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up (default 120)")
    args = parser.parse_args(argv)
    try:
        path = screenshot(args.page, args.out, width=args.width, height=args.height, chromium=args.chromium,
                          timeout=args.timeout)
    except (FileNotFoundError, FathomError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size} bytes, {args.width}x{args.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
