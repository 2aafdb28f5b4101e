"""``fathom grader ...``: work on reward definitions before a run is spent on them.

``fathom grader check`` samples completions and reports whether a grader gives a learning signal
(and cannot be gamed); ``fathom grader import`` turns an OpenAI grader configuration into a Fathom one;
``fathom grader export`` goes the other way, writing an Amazon Nova RFT reward Lambda for a grader.
``check`` and ``import`` live in their own modules.
"""

from __future__ import annotations

from pathlib import Path

import click

from fathom.cli._grader_check import check
from fathom.cli._grader_import import import_


@click.group()
def grader() -> None:
    """Check a grader as a reward, import one from another platform (OpenAI) or export one to it (Nova)."""


@click.command()
@click.option("--grader", "spec", required=True, help="A grader name or JSON spec, as in a recipe.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the Lambda (lambda_function.py, a copy of fathom, requirements.txt).")
@click.option("--format", "format_", type=click.Choice(["nova"]), default="nova", show_default=True,
              help="The platform: nova = an Amazon Nova RFT reward Lambda (SageMaker / Bedrock).")
def export(spec: str, out: Path, format_: str) -> None:
    """Write GRADER as another platform's reward function: the same scores as `fathom eval` and
    `fathom train rft`, computed in AWS. Example: fathom grader export --grader shipping --out lambda/"""
    from fathom.cli._options import parse_grader
    from fathom.graders import write_nova_lambda

    path = write_nova_lambda(out, parse_grader(spec))
    click.echo(f"Nova reward Lambda written: {path} (handler lambda_function.lambda_handler; zip the folder "
               f"and deploy it, then name its ARN as the RFT reward function)")


grader.add_command(check)
grader.add_command(import_)
grader.add_command(export)
