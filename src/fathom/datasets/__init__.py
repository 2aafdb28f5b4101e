"""Chat datasets: the Fathom example format, validation, converters, splits and leakage checks.

One example format carries everything: OpenAI-style chat ``messages`` (system, user, assistant,
tool; assistant ``tool_calls`` with JSON-string ``arguments``), optional ``tools`` (JSON Schema),
optional ``reference`` (what a grader needs) and ``meta`` (``id``, ``source``, ...). A DPO row
keeps the prompt in ``messages`` and adds ``chosen`` and ``rejected`` assistant messages.

* Validate: :func:`validate_example`, :func:`validate_file`, :func:`read_examples`;
  :func:`check_file` for a file in any supported format.
* Convert: Amazon Nova (:func:`to_nova`, :func:`from_nova`, :func:`validate_nova`), OpenAI
  fine-tuning rows (:func:`to_openai`, :func:`from_openai`), ShareGPT (:func:`to_sharegpt`,
  :func:`from_sharegpt`), Hugging Face (:func:`to_hf_dataset`, :func:`from_hf_dataset`); whole
  files with :func:`convert_file`.
* Split: :func:`split_examples` (grouped by ``meta.source``), :func:`leakage_report`, and
  :func:`split_file` for a file.
* Helpers: :func:`prompt_messages`, :func:`final_assistant`, :func:`is_dpo`.

The command line is ``fathom data validate|convert|split``.
"""

from __future__ import annotations

from fathom.datasets._check import FileCheck, check_file
from fathom.datasets._convert import FORMATS, ConversionReport, convert_file, convert_rows, detect_format
from fathom.datasets._files import read_examples, validate_file
from fathom.datasets._hf import from_hf_dataset, to_hf_dataset
from fathom.datasets._io import read_jsonl, scan_jsonl, write_jsonl
from fathom.datasets._messages import final_assistant, is_dpo, prompt_messages
from fathom.datasets._nova import NOVA_SCHEMA_VERSION, from_nova, to_nova
from fathom.datasets._nova_rules import validate_nova
from fathom.datasets._openai import from_openai, to_openai
from fathom.datasets._schema import validate_example
from fathom.datasets._sharegpt import from_sharegpt, to_sharegpt
from fathom.datasets._split import (
                                   LeakageReport,
                                   LeakedPrompt,
                                   SplitResult,
                                   leakage_report,
                                   parse_ratios,
                                   split_examples,
                                   split_file,
)

__all__ = [
    "FORMATS",
    "NOVA_SCHEMA_VERSION",
    "ConversionReport",
    "FileCheck",
    "LeakageReport",
    "LeakedPrompt",
    "SplitResult",
    "check_file",
    "convert_file",
    "convert_rows",
    "detect_format",
    "final_assistant",
    "from_hf_dataset",
    "from_nova",
    "from_openai",
    "from_sharegpt",
    "is_dpo",
    "leakage_report",
    "parse_ratios",
    "prompt_messages",
    "read_examples",
    "read_jsonl",
    "scan_jsonl",
    "split_examples",
    "split_file",
    "to_hf_dataset",
    "to_nova",
    "to_openai",
    "to_sharegpt",
    "validate_example",
    "validate_file",
    "validate_nova",
    "write_jsonl",
]
