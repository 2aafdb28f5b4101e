"""``docs/cli.md`` is generated from the live CLI, covers lazily loaded verbs, and is up to date."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

from fathom.cli import cli

SECTION = re.compile(r"^## (fathom[^\n]*)\n\n```text\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def test_docs_cli_md_is_up_to_date(gen_cli_docs: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    status = gen_cli_docs.main(["--check"])
    assert status == 0, capsys.readouterr().err


def test_every_section_is_what_the_cli_prints(gen_cli_docs: ModuleType) -> None:
    sections = dict(SECTION.findall(gen_cli_docs.render()))
    for path in ("fathom", "fathom eval", "fathom eval compare", "fathom serve", "fathom shipping"):
        assert path in sections  # lazily loaded verbs and domain groups are walked
    runner = CliRunner()
    for path, text in sections.items():
        result = runner.invoke(cli, [*path.split()[1:], "--help"], prog_name="fathom",
                               terminal_width=gen_cli_docs.WIDTH, max_content_width=gen_cli_docs.WIDTH)
        assert result.exit_code == 0, (path, result.output)
        assert result.output.rstrip() == text, path


def test_check_fails_on_a_stale_or_missing_file(gen_cli_docs: ModuleType, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.md"
    assert gen_cli_docs.main(["--check", "--out", str(out)]) == 1
    assert "is missing" in capsys.readouterr().err
    assert gen_cli_docs.main(["--out", str(out)]) == 0
    assert gen_cli_docs.main(["--check", "--out", str(out)]) == 0
    out.write_text(out.read_text().replace("Usage: fathom eval compare", "Usage: fathom eval kompare"))
    capsys.readouterr()
    assert gen_cli_docs.main(["--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "-Usage: fathom eval kompare" in err and "+Usage: fathom eval compare" in err
    assert "is stale: regenerate it with" in err


def test_a_listed_command_that_cannot_load_stops_the_generator(gen_cli_docs: ModuleType) -> None:
    class Broken(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return ["ghost"]

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            return None

    @click.group(cls=Broken)
    def root() -> None:
        """A group whose only verb fails to import."""

    with pytest.raises(SystemExit, match="`fathom ghost` is listed but could not be loaded"):
        gen_cli_docs.render(root)


def test_hidden_commands_are_left_out(gen_cli_docs: ModuleType) -> None:
    @click.group()
    def root() -> None:
        """Root."""

    @root.command()
    def shown() -> None:
        """Visible."""

    @root.command(hidden=True)
    def secret() -> None:
        """Hidden."""

    text = gen_cli_docs.render(root)
    assert "## fathom shown" in text and "secret" not in text
