"""``fathom export gguf MODEL --out F.gguf`` and ``fathom export gguf-adapter ADAPTER --out A.gguf``."""

from __future__ import annotations

import json

import click


@click.group()
def export() -> None:
    """Write models in other engines' formats (GGUF for llama.cpp, Ollama, LM Studio)."""


def _report(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    size = int(str(result["bytes"])) / 2**20
    click.echo(f"wrote {result['path']} ({result['quant']}, {size:.1f} MiB, {result['tensors']} tensors) "
               f"in {result['seconds']} s")
    parity = result.get("parity")
    if isinstance(parity, dict):
        click.echo(f"parity: {parity['matched']}/{parity['prompts']} greedy completions identical to PyTorch; "
                   f"largest first-token log-probability difference {parity['max_logprob_diff']:.4f}")
        for miss in parity["mismatches"]:
            click.echo(f"  differs on {miss['prompt']!r}:\n    pytorch:  {miss['pytorch']!r}\n"
                       f"    llamacpp: {miss['llamacpp']!r}")


@export.command("gguf")
@click.argument("model")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .gguf file to write.")
@click.option("--quant", default="f16", show_default=True, metavar="TYPE",
              help="Tensor type: f32, f16, bf16, q8_0 or q4_0.")
@click.option("--tokenizer-pre", default=None, metavar="NAME",
              help="llama.cpp's pre-tokenizer name; only for tokenizers other than SmolLM2's.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Compare greedy outputs with the PyTorch model on fixed prompts afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def gguf(model: str, out: str, quant: str, tokenizer_pre: str | None, check: bool, as_json: bool) -> None:
    """Write MODEL (bundled name, folder, or adapter folder: merged into its base) as one GGUF file.

    \b
    Example:
      fathom export gguf runs/shipping-forecast/sft/model --out shipping.gguf --quant q8_0
      fathom eval --model shipping.gguf --data test.jsonl --grader shipping --out runs/q8
    """
    from fathom.models import export_gguf

    result: dict[str, object] = export_gguf(model, out, quant=quant, tokenizer_pre=tokenizer_pre).to_dict()
    if check:
        from fathom.backends import check_parity

        result["parity"] = check_parity(model, out).to_dict()
    _report(result, as_json)


@export.command("gguf-adapter")
@click.argument("adapter", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .gguf file to write.")
@click.option("--dtype", default="f16", show_default=True, type=click.Choice(["f16", "f32"]),
              help="Tensor type of the LoRA matrices.")
@click.option("--base-gguf", default=None, type=click.Path(exists=True, dir_okay=False),
              help="With --check: the base model's GGUF to run the adapter on (default: the base converted to f16).")
@click.option("--check/--no-check", default=False, show_default=True,
              help="Compare greedy outputs with the PyTorch adapter on fixed prompts afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def gguf_adapter(adapter: str, out: str, dtype: str, base_gguf: str | None, check: bool, as_json: bool) -> None:
    """Write a LoRA ADAPTER folder as a llama.cpp adapter GGUF (load it with llama.cpp's --lora).

    \b
    Example:
      fathom export gguf-adapter runs/shipping-forecast/sft/model --out shipping-lora.gguf
      llama-server -m base.gguf --lora shipping-lora.gguf
    """
    from fathom.models import export_gguf_adapter, gguf_for, resolve_model

    result: dict[str, object] = export_gguf_adapter(adapter, out, dtype=dtype).to_dict()
    if check:
        from fathom.backends import check_parity
        from fathom.models import AdapterSpec

        spec = resolve_model(adapter)
        assert isinstance(spec, AdapterSpec)  # export_gguf_adapter refused anything else
        base = base_gguf or str(gguf_for(spec.base, quant="f16"))
        result["parity"] = check_parity(adapter, base, adapter=out).to_dict()  # the file just written
    _report(result, as_json)
