"""The value rules of the ``tool_call`` grader, shared by its schema gate (``schema_valid``), its
argument matching and the reference check, so a value is never accepted by one and rejected by another.

Covers: type names (JSON Schema's, plus the Python names BFCL writes: ``float``, ``int``, ``dict``,
``tuple``, ``list``, ``str``, ``bool``, ``any``), the type check (an int is a number; a float is not
an integer, not even ``24.0``; a bool is neither), BFCL string normalisation and where it applies (per
parameter: the grader's ``normalise`` and ``exact_params``, a property's ``"normalise": false``),
value equality under it, and the gate: a call's arguments validated against its tool's schema with
those rules (``enum`` and ``const`` compared with the same equality as argument matching).
Argument matching credits a value only when it fits its property this way, so keywords that read a
string as written (``pattern``, ``format``, lengths) bind both: a normalised match that breaks the
pattern earns nothing and fails the gate.
Not covered: enums reached through ``$ref`` compare as written (the flag that says "normalise"
is set on each parameter's own subschemas); scoring (see :mod:`fathom.graders._toolcall_args`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["STRICT", "ArgOptions", "argument_errors", "is_type", "normalise_string", "normalises", "schema_error",
           "value_errors", "value_fits",
           "values_equal"]

_DROP = re.compile(r"[ ,./\-_*^]")
_TYPE_ALIASES = {"float": "number", "int": "integer", "dict": "object", "tuple": "array", "list": "array",
                 "str": "string", "bool": "boolean"}
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, (list, tuple)),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_FLAG = "fathom:normalise"  # set on a gate schema's subschemas: compare enum/const values normalised


def normalise_string(text: str) -> str:
    """BFCL's normaliser: drop spaces and ``, . / - _ * ^``, lower-case, ``'`` -> ``"``.

    >>> normalise_string("New York, NY"), normalise_string("A-1") == normalise_string("a1")
    ('newyorkny', True)
    """
    return _DROP.sub("", text).lower().replace("'", '"')


@dataclass(frozen=True)
class ArgOptions:
    """How argument values are compared."""

    normalise: bool = True
    """Normalise strings (BFCL rules) before comparing."""
    exact_params: Collection[str] = ()
    """Parameters (``"param"`` or ``"tool.param"``) compared without normalisation (IDs, codes)."""
    fuzzy: float | None = None
    """Opt-in: a string whose similarity ratio to an acceptable one is at least this earns the ratio."""


STRICT = ArgOptions(normalise=False)
"""Values as written: how references are checked (a reference is what a right call sends verbatim)."""


def is_type(value: Any, declared: str) -> bool:
    """Whether ``value`` has the declared type; an unknown type name (``any``) accepts everything.

    >>> is_type(3, "float"), is_type(3.0, "integer"), is_type(True, "number"), is_type("x", "any")
    (True, False, False, True)
    """
    check = _CHECKS.get(_TYPE_ALIASES.get(declared, declared))
    return True if check is None else check(value)


def normalises(tool: str, key: str, spec: Any, options: ArgOptions) -> bool:
    """Whether strings under parameter ``key`` of ``tool`` are compared normalised (everything nested
    under it follows the parameter).

    >>> normalises("get_station", "station_id", {"type": "string", "normalise": False}, ArgOptions())
    False
    >>> normalises("f", "x", {}, ArgOptions()), normalises("f", "x", {}, ArgOptions(exact_params=["f.x"]))
    (True, False)
    """
    declared = spec.get("normalise", True) if isinstance(spec, Mapping) else True
    return (options.normalise and declared is not False
            and key not in options.exact_params and f"{tool}.{key}" not in options.exact_params)


def values_equal(pred: Any, gold: Any, normalise: bool) -> bool:
    """Equality of JSON values: bools only equal bools, numbers compare by value, strings normalised
    when ``normalise``, lists in order, dicts key by key.

    >>> values_equal("Dogger Bank", "dogger-bank", True), values_equal(1, True, True), values_equal(24, 24.0, False)
    (True, False, True)
    """
    if isinstance(pred, bool) or isinstance(gold, bool):
        return isinstance(pred, bool) and isinstance(gold, bool) and pred == gold
    if isinstance(pred, (int, float)) and isinstance(gold, (int, float)):
        return pred == gold
    if isinstance(pred, str) and isinstance(gold, str):
        return normalise_string(pred) == normalise_string(gold) if normalise else pred == gold
    if isinstance(pred, (list, tuple)) and isinstance(gold, (list, tuple)):
        return len(pred) == len(gold) and all(values_equal(p, g, normalise) for p, g in zip(pred, gold, strict=True))
    if isinstance(pred, dict) and isinstance(gold, dict):
        return pred.keys() == gold.keys() and all(values_equal(pred[k], gold[k], normalise) for k in gold)
    return type(pred) is type(gold) and pred == gold


def argument_errors(tool: str, args: dict[str, Any], schema: dict[str, Any], options: ArgOptions,
                    ) -> list[tuple[str, str]]:
    """Why ``args`` do not fit ``tool``'s parameter schema: ``(path, message)`` pairs in path order,
    empty when they fit. Undeclared keys are errors unless the schema allows them.

    >>> schema = {"type": "object", "required": ["area"],
    ...           "properties": {"area": {"type": "string"}, "units": {"enum": ["kt", "mph"]}}}
    >>> argument_errors("f", {"area": "Dogger", "units": "KT"}, schema, ArgOptions())
    []
    >>> argument_errors("f", {"units": "KT"}, schema, STRICT)
    [('arguments', "'area' is a required property"), ('units', "'KT' is not one of ['kt', 'mph']")]
    """
    return [("/".join(str(p) for p in e.absolute_path) or "arguments", e.message)
            for e in _errors(tool, args, schema, options)]


def value_fits(tool: str, key: str, value: Any, schema: dict[str, Any], options: ArgOptions) -> bool:
    """Whether ``value`` fits parameter ``key`` of ``tool`` the way the gate sees it (type, enum,
    nested items...); a parameter the schema does not declare fits nothing.

    >>> schema = {"type": "object", "properties": {"hours": {"type": "integer"}, "units": {"enum": ["kt"]}}}
    >>> value_fits("f", "hours", 24.0, schema, ArgOptions()), value_fits("f", "units", "KT", schema, ArgOptions())
    (False, True)
    """
    return not value_errors(tool, key, value, schema, options)


def value_errors(tool: str, key: str, value: Any, schema: dict[str, Any], options: ArgOptions) -> list[str]:
    """Why ``value`` does not fit parameter ``key`` of ``tool`` (empty when it fits).

    >>> value_errors("f", "hours", "24", {"type": "object", "properties": {"hours": {"type": "integer"}}}, STRICT)
    ["'24' is not of type 'integer'"]
    """
    # errors about other keys (required ones missing from this one-key object) are not this value's
    return [e.message for e in _errors(tool, {key: value}, schema, options)
            if list(e.absolute_path)[:1] == [key] or e.validator in _KEY_KEYWORDS]


_KEY_KEYWORDS = ("additionalProperties", "unevaluatedProperties", "propertyNames")
"""Keywords whose errors sit on the object but are about one key (an undeclared one)."""


def _errors(tool: str, args: dict[str, Any], schema: dict[str, Any], options: ArgOptions) -> list[Any]:
    flags = {key: normalises(tool, key, spec, options) for key, spec in (schema.get("properties") or {}).items()}
    validator = _validator(json.dumps(schema, sort_keys=True), json.dumps(flags, sort_keys=True))
    return sorted(validator.iter_errors(args), key=lambda e: [str(p) for p in e.absolute_path])


def schema_error(schema: dict[str, Any]) -> str | None:
    """Why the gate cannot use ``schema`` (it is not a valid JSON Schema once type aliases are
    mapped), or None.

    >>> schema_error({"type": "object", "properties": {"x": {"type": "float"}}}) is None
    True
    >>> schema_error({"type": "object", "required": "x"})
    "'x' is not of type 'array'"
    """
    return _schema_error(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=512)
def _schema_error(schema_json: str) -> str | None:
    import jsonschema

    schema = _gate_schema(json.loads(schema_json))
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return str(exc.message)
    return None


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str, flags_json: str) -> Any:
    """A validator for the gate's view of a schema (memoised: every completion of an example shares it)."""
    import jsonschema

    schema = _gate_schema(json.loads(schema_json))
    if schema.get("type", "object") == "object":
        schema.setdefault("additionalProperties", False)  # undeclared keys are errors
    for key, flag in json.loads(flags_json).items():
        spec = (schema.get("properties") or {}).get(key)
        if isinstance(spec, dict):
            for sub in _subschemas(spec):
                sub[_FLAG] = flag
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    checker = base.TYPE_CHECKER.redefine_many({name: _type_fn(name) for name in _CHECKS})
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, validators={"enum": _enum, "const": _const}, type_checker=checker)
    return cls(schema)


def _type_fn(name: str) -> Callable[[Any, Any], bool]:
    return lambda checker, value: _CHECKS[name](value)


def _enum(validator: Any, enums: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    normalise = bool(schema.get(_FLAG, False))
    if not any(values_equal(instance, e, normalise) for e in (enums if isinstance(enums, list) else [enums])):
        after = " (compared after normalising strings)" if normalise else ""
        yield ValidationError(f"{instance!r} is not one of {enums!r}{after}")


def _const(validator: Any, const: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not values_equal(instance, const, bool(schema.get(_FLAG, False))):
        yield ValidationError(f"{const!r} was expected, got {instance!r}")


def _gate_schema(schema: Any) -> Any:
    """A copy of ``schema`` with type aliases turned into JSON Schema names and unknown ones dropped."""
    if isinstance(schema, list):
        return [_gate_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _gate_schema(v) if k in _SUBSCHEMA_KEYS else v for k, v in schema.items()}
    for k in ("properties", "patternProperties", "$defs", "definitions"):
        if isinstance(schema.get(k), dict):
            out[k] = {name: _gate_schema(s) for name, s in schema[k].items()}
    if "type" in schema:
        declared = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        names = list(dict.fromkeys(_TYPE_ALIASES.get(t, t) if isinstance(t, str) else repr(t) for t in declared))
        known = [t for t in names if t in _CHECKS]
        if known and len(known) == len(names):
            out["type"] = known if isinstance(schema["type"], list) else known[0]
        else:
            del out["type"]  # "any" or an unknown name: argument matching accepts every value, so does the gate
    return out


_SUBSCHEMA_KEYS = frozenset({"items", "prefixItems", "additionalProperties", "additionalItems", "contains",
                             "anyOf", "oneOf", "allOf", "not", "if", "then", "else", "propertyNames"})


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``schema`` and every schema nested in it (the gate's copy, so they may be annotated)."""
    yield schema
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(value, dict):
            nested = list(value.values())
        elif key in _SUBSCHEMA_KEYS:
            nested = value if isinstance(value, list) else [value]
        else:
            continue
        for sub in nested:
            if isinstance(sub, dict):
                yield from _subschemas(sub)
