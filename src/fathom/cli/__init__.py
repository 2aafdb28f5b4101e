"""The ``fathom`` command line. Thin: parse, call the library, print.

Verb groups live one per module in this package and are imported only when used, so
``fathom --help`` is instant. Domain plug-ins add their own groups (``fathom shipping ...``).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from fathom import __version__
from fathom.errors import FathomError

# verb -> "module:attribute" of a click command
_CORE: dict[str, str] = {
    "models": "fathom.cli.models:models",
    "data": "fathom.cli.data:data",
    "train": "fathom.cli.train:train",
    "generate": "fathom.cli.generate:generate",
    "serve": "fathom.cli.serve:serve",
    "eval": "fathom.cli.eval:eval_",
    "grade": "fathom.cli.grade:grade",
    "run": "fathom.cli.run:run",
    "demo": "fathom.cli.demo:demo",
}


class _LazyGroup(click.Group):
    def _refs(self) -> dict[str, str]:
        from fathom._plugins import domain_plugins

        refs = {name: p.cli for name, p in domain_plugins().items() if p.cli}
        refs.update(_CORE)
        return refs

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        names = []
        for name, ref in self._refs().items():
            if importlib.util.find_spec(ref.partition(":")[0]) is not None:
                names.append(name)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from fathom._plugins import load_ref

        ref = self._refs().get(cmd_name)
        if ref is None:
            return None
        try:
            return load_ref(ref)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("fathom.cli"):
                return None
            raise


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fathom")
def cli() -> None:
    """Fathom: turn domain data into a small specialised model you run anywhere."""


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: FathomErrors become a clear message and a non-zero exit."""
    try:
        return cli.main(args=argv, prog_name="fathom", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FathomError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
