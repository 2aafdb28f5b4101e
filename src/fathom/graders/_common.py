"""Helpers every grader shares: reading the reference out of an example, and checking parameters.

Covers: the reference texts (``reference["text"]`` or the last assistant message), field access that
treats ``None`` like a missing key (Arrow-backed datasets fill absent struct fields with ``None``),
and small parameter checks that raise :class:`~fathom.errors.ConfigError`.
Not covered: anything specific to one grader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fathom.errors import ConfigError, GraderError, did_you_mean

__all__ = ["check_choice", "check_keys", "last_assistant", "ref_field", "reference_texts"]


def ref_field(example: Mapping[str, Any], key: str) -> Any:
    """``example["reference"][key]``, or ``None`` when the reference or the key is absent.

    >>> ref_field({"reference": {"text": "x"}}, "text"), ref_field({}, "text")
    ('x', None)
    """
    reference = example.get("reference")
    if not isinstance(reference, Mapping):
        return None
    return reference.get(key)


def last_assistant(example: Mapping[str, Any]) -> dict[str, Any] | None:
    """The example's last assistant message, or ``None`` when it has none.

    >>> last_assistant({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    {'role': 'assistant', 'content': 'a'}
    """
    for message in reversed(example.get("messages") or []):
        if isinstance(message, Mapping) and message.get("role") == "assistant":
            return dict(message)
    return None


def reference_texts(example: Mapping[str, Any], grader: str) -> list[str]:
    """The acceptable reference answers: ``reference["text"]`` (a string or a list of strings) or,
    when that is absent, the content of the example's last assistant message.

    Raises:
        GraderError: the example has neither.

    >>> reference_texts({"reference": {"text": ["a", "b"]}}, "exact")
    ['a', 'b']
    >>> reference_texts({"messages": [{"role": "assistant", "content": "gold"}]}, "exact")
    ['gold']
    """
    text = ref_field(example, "text")
    if isinstance(text, str):
        return [text]
    if isinstance(text, list) and text and all(isinstance(t, str) for t in text):
        return list(text)
    if text is not None:
        raise GraderError(f"{grader}: reference['text'] must be a string or a non-empty list of strings, "
                          f"got {type(text).__name__}. Fix the example's reference.")
    message = last_assistant(example)
    if message is not None and isinstance(message.get("content"), str):
        return [message["content"]]
    meta = example.get("meta")
    meta_id = meta.get("id") if isinstance(meta, Mapping) else None
    raise GraderError(f"{grader}: example {meta_id!r} has no reference['text'] and no assistant message to "
                      "compare with. Add reference.text or a gold assistant turn.")


def check_choice(grader: str, param: str, value: Any, valid: Iterable[str]) -> None:
    """Raise ConfigError unless ``value`` is one of ``valid``.

    >>> check_choice("regex", "mode", "full", ["full", "search"])
    """
    options = sorted(valid)
    if value not in options:
        raise ConfigError([f"grader {grader!r}: {param}={value!r} is not one of {options}. "
                           f"{did_you_mean(str(value), options)}".strip()])


def check_keys(grader: str, param: str, given: Mapping[str, Any], valid: Iterable[str]) -> None:
    """Raise ConfigError listing every key of ``given`` that is not in ``valid``.

    >>> check_keys("tool_call", "weights", {"name_f1": 1}, ["name_f1", "arg_accuracy"])
    """
    options = sorted(valid)
    problems = [f"grader {grader!r}: unknown {param} key {key!r}. {did_you_mean(str(key), options)} "
                f"Valid keys: {', '.join(options)}." for key in given if key not in options]
    if problems:
        raise ConfigError(problems)
