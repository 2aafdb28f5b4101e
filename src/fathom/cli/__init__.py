"""The ``fathom`` command line. Thin: parse, call the library, print.

Verb groups live one per module in this package and are imported only when used, so
``fathom --help`` is instant. Domain plug-ins add their own groups (``fathom shipping ...``).
"""

from __future__ import annotations

import itertools
import os
import sys
import traceback
import warnings
from typing import Any, TextIO

import click

from fathom import __version__
from fathom.cli._options import parallel_option as parallel_option  # re-exported for domain CLIs
from fathom.errors import FathomError, FathomWarning

__all__ = ["LazyGroup", "cli", "main", "parallel_option"]

# verb -> "module:attribute" of a click command
_CORE: dict[str, str] = {
    "models": "fathom.cli.models:models",
    "data": "fathom.cli.data:data",
    "train": "fathom.cli.train:train",
    "distill": "fathom.cli.distill:distill",
    "generate": "fathom.cli.generate:generate",
    "serve": "fathom.cli.serve:serve",
    "gateway": "fathom.cli.gateway:gateway",
    "eval": "fathom.cli.eval:eval_",
    "export": "fathom.cli.export:export",
    "grade": "fathom.cli.grade:grade",
    "grader": "fathom.cli.grader:grader",
    "synth": "fathom.cli.synth:synth",
    "run": "fathom.cli.run:run",
    "demo": "fathom.cli.demo:demo",
}


class LazyGroup(click.Group):
    """A group whose verbs are imported only when called: the core's, then domain plug-ins' groups
    (a plug-in cannot shadow a core verb). Subclasses may override :meth:`_refs` with their own verbs."""

    def _refs(self) -> dict[str, str]:
        from fathom._registry import Registry

        verbs: Registry[click.Command] = Registry("command", _CORE, lambda p: {p.name: p.cli} if p.cli else {},
                                                  builtin_wins=True)
        return {name: str(ref) for name, ref in verbs.refs().items()}

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
            command: click.Command = load_ref(ref)
            return command
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("fathom.cli"):
                return None
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fathom")
@click.option("--debug", is_flag=True, expose_value=False,
              help="Show the Python traceback when a command fails (also FATHOM_DEBUG=1).")
def cli() -> None:
    """Fathom: turn domain data into a small specialised model you run anywhere."""


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: errors become a clear message and a non-zero exit, never a traceback.

    FathomErrors print their message and exit with their ``exit_code``; any other exception prints
    one line and exits 1. ``fathom --debug ...`` (or ``FATHOM_DEBUG=1``) also prints the traceback.
    Fathom's warnings print as ``warning: ...`` lines.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    debug = _debug_requested(args)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return cli.main(args=args, prog_name="fathom", standalone_mode=False)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except FathomError as exc:
            _traceback_if(debug)
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:  # a bug or an unforeseen failure: one line, the traceback on request
            _traceback_if(debug)
            click.echo(f"error: {_one_line(exc)}", err=True)
            if not debug:
                click.echo("run with --debug (or FATHOM_DEBUG=1) for the traceback", err=True)
            sys.exit(1)


def _debug_requested(args: list[str]) -> bool:
    """``--debug`` among the options before the verb, or ``FATHOM_DEBUG`` set to a true value."""
    if os.environ.get("FATHOM_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    return "--debug" in itertools.takewhile(lambda a: a.startswith("-"), args)


def _traceback_if(debug: bool) -> None:
    if debug:
        traceback.print_exc(file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    """``"TypeName: first line of the message"`` (a file error names its path), at most 300 characters."""
    if isinstance(exc, OSError) and exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else str(exc.filename)
        text = f"{type(exc).__name__}: cannot access {target}: {exc.strerror or exc}"
    else:
        lines = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {lines[0]}{' ...' if len(lines) > 1 else ''}" if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Fathom's own warnings as ``warning: message``; others in Python's usual format."""
    if issubclass(category, FathomWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
