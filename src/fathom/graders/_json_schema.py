"""The ``json_schema`` grader: does the completion hold JSON that validates against a JSON Schema?

Covers: extracting JSON from a completion (bare, in a code fence, or wrapped in prose), validating
it with ``jsonschema`` (the schema's own ``$schema`` dialect, Draft 2020-12 by default) and partial
credit for objects that are nearly right.
Not covered: tool-call arguments (the ``tool_call`` grader validates those against the offered tools).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from fathom.errors import ConfigError, GraderError
from fathom.graders._common import ref_field
from fathom.graders._protocol import Grade, completion_text

__all__ = ["extract_json", "json_schema"]

_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)


def extract_json(text: str, *, lenient: bool = True) -> tuple[Any, str | None]:
    """Decode the JSON value in ``text``; returns ``(value, None)`` or ``(None, error)``.

    With ``lenient``, a fenced block's body is used when present, and otherwise the span from the
    first ``{`` or ``[`` to the last ``}`` or ``]``.

    >>> extract_json('Here: ```json\\n{"a": 1}\\n```')
    ({'a': 1}, None)
    >>> extract_json('{"a": 1', lenient=False)[1]
    "not valid JSON (Expecting ',' delimiter at line 1 column 8)"
    """
    candidates = [text.strip()]
    if lenient:
        fenced = _FENCE.search(text)
        if fenced:
            candidates.insert(0, fenced.group(1).strip())
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        end = max(text.rfind("}"), text.rfind("]"))
        if starts and end > min(starts):
            candidates.append(text[min(starts):end + 1])
    error = ""
    for candidate in candidates:
        try:
            return json.loads(candidate), None
        except json.JSONDecodeError as exc:
            error = error or f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    return None, error


def _validator(schema: dict[str, Any]) -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def _property_share(instance: Any, schema: dict[str, Any]) -> float:
    """Share of an object's top-level checks that pass: each declared property present and valid (or
    absent and optional), and each undeclared key allowed. 0 for anything but an object schema."""
    properties = schema.get("properties")
    if not isinstance(instance, dict) or not isinstance(properties, dict) or not properties:
        return 0.0
    required = set(schema.get("required") or [])
    passed = 0
    for key, subschema in properties.items():
        if key not in instance:
            passed += key not in required
        elif isinstance(subschema, dict):
            passed += not any(True for _ in _validator(subschema).iter_errors(instance[key]))
        else:
            passed += 1
    undeclared = [k for k in instance if k not in properties]
    checks = len(properties) + (len(undeclared) if schema.get("additionalProperties") is False else 0)
    return passed / checks


@dataclass(frozen=True)
class _JsonSchema:
    name: ClassVar[str] = "json_schema"
    schema: dict[str, Any] | None
    lenient: bool
    partial: bool

    def _schema_for(self, example: dict[str, Any]) -> dict[str, Any]:
        schema = self.schema if self.schema is not None else ref_field(example, "schema")
        if not isinstance(schema, dict):
            raise GraderError("json_schema: no schema. Give the grader a `schema` parameter or the example a "
                              "reference.schema object.")
        return schema

    def __call__(self, example: dict[str, Any], completion: dict[str, Any] | str) -> Grade:
        schema = self._schema_for(example)
        value, error = extract_json(completion_text(completion), lenient=self.lenient)
        if error is not None:
            return Grade(0.0, {"json_valid": 0.0, "schema_valid": 0.0}, {}, error)
        errors = sorted(_validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
        if not errors:
            return Grade(1.0, {"json_valid": 1.0, "schema_valid": 1.0}, {}, "valid against the schema")
        share = _property_share(value, schema)
        score = 0.5 * share if self.partial else 0.0
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        reason = f"{len(errors)} schema error(s); first at {where}: {errors[0].message}"
        return Grade(score, {"json_valid": 1.0, "schema_valid": 0.0, "property_share": share}, {}, reason)


def json_schema(*, schema: dict[str, Any] | None = None, lenient: bool = True, partial: bool = True) -> _JsonSchema:
    """JSON Schema validity: 1 when the completion's JSON validates, partial credit when it nearly does.

    Why: structured outputs feed programs; a reply that does not parse or breaks the schema is
    unusable, so this is the usual hard gate (``weighted`` with ``gate: true``) in front of softer
    graders. Partial credit (at most 0.5, for a parseable object with some valid top-level
    properties) gives reinforcement learning a slope towards validity.

    Args:
        schema: the JSON Schema; when None, each example gives ``reference["schema"]``.
        lenient: accept JSON inside a code fence or surrounded by prose.
        partial: when the JSON parses but is invalid, score ``0.5 x`` the share of top-level
            property checks that pass (else 0).

    Returns:
        A grader with components ``json_valid``, ``schema_valid`` (and ``property_share`` on failure).

    Raises:
        ConfigError: the schema itself is not a valid JSON Schema.

    >>> grade = json_schema(schema={"type": "object", "required": ["area", "wind"],
    ...     "properties": {"area": {"type": "string"}, "wind": {"type": "integer"}}})
    >>> grade({}, '{"area": "Viking", "wind": 7}').score
    1.0
    >>> grade({}, '{"area": "Viking", "wind": "seven"}').score
    0.25
    >>> grade({}, 'area: Viking').score
    0.0
    """
    if schema is not None:
        import jsonschema

        try:
            jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ConfigError([f"grader 'json_schema': the schema is invalid: {exc.message}"]) from exc
    return _JsonSchema(schema, lenient, partial)
