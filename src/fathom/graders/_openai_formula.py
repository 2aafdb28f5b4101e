"""``calculate_output`` formulas of OpenAI ``multi`` graders, checked at build time and evaluated safely.

A formula is arithmetic over the sub-graders' names: numbers, ``+ - * /``, powers (``^`` as in
OpenAI's docs, or ``**``), unary minus, parentheses and the functions OpenAI documents: ``min``,
``max``, ``abs``, ``floor``, ``ceil``, ``exp``, ``sqrt``, ``log`` (natural, or ``log(x, base)``).
Anything else (attributes, subscripts, comparisons, other calls, unknown names) is a problem at
build time. The formula is parsed with :mod:`ast` and walked node by node; nothing is ``eval``-ed.

Why hand-written: a dozen lines of AST walking cover the whole grammar, where an expression
library (asteval, simpleeval) would bring a larger surface than the formula language needs.
Not covered: conditionals and comparisons (OpenAI's formulas have none).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fathom.errors import GraderError, did_you_mean

__all__ = ["FUNCTIONS", "Formula", "parse_formula"]

# name -> (function, least and most arguments)
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    "abs": (abs, 1, 1), "ceil": (math.ceil, 1, 1), "exp": (math.exp, 1, 1), "floor": (math.floor, 1, 1),
    "log": (math.log, 1, 2), "max": (max, 2, 64), "min": (min, 2, 64), "sqrt": (math.sqrt, 1, 1),
}
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _check(node: ast.AST, names: Sequence[str], problems: list[str]) -> None:
    """Append a problem for every construct outside the formula language."""
    if isinstance(node, ast.Expression):
        _check(node.body, names, problems)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, names, problems)
        _check(node.right, names, problems)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, names, problems)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        pass
    elif isinstance(node, ast.Name):
        if node.id not in names:
            hint = did_you_mean(node.id, names)
            problems.append(f"unknown name {node.id!r}. {hint} The names are the keys of `graders`: "
                            f"{', '.join(names)}.".replace(".  ", ". "))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        _check_call(node, node.func.id, names, problems)
    else:
        problems.append(f"{ast.unparse(node)!r} is not allowed; a formula uses numbers, grader names, "
                        f"+ - * / ^, parentheses and {', '.join(sorted(FUNCTIONS))}")


def _check_call(node: ast.Call, name: str, names: Sequence[str], problems: list[str]) -> None:
    if name not in FUNCTIONS:
        problems.append(f"unknown function {name!r}. {did_you_mean(name, FUNCTIONS)} "
                        f"Allowed: {', '.join(sorted(FUNCTIONS))}.".replace(".  ", ". "))
        return
    _, least, most = FUNCTIONS[name]
    if not least <= len(node.args) <= most:
        wanted = str(least) if least == most else f"{least} to {most}" if most < 64 else f"at least {least}"
        problems.append(f"{name}() takes {wanted} argument(s), got {len(node.args)}")
    for arg in node.args:
        _check(arg, names, problems)


@dataclass(frozen=True)
class Formula:
    """A checked formula; :meth:`evaluate` computes it from the sub-graders' values."""

    source: str
    tree: ast.Expression

    @property
    def names(self) -> set[str]:
        """The sub-grader names the formula uses."""
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)} - set(FUNCTIONS)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value.

        Raises:
            GraderError: the arithmetic fails (division by zero, ``log(0)``, overflow) or gives a
                value that is not finite.
        """
        try:
            result = float(_eval(self.tree.body, values))
        except (ArithmeticError, ValueError) as exc:
            shown = ", ".join(f"{k}={values[k]:g}" for k in sorted(self.names))
            raise GraderError(f"calculate_output {self.source!r} failed with {shown}: {exc}. Guard the formula, "
                              f"e.g. max(x, 1e-9) in a denominator.") from exc
        if not math.isfinite(result):
            raise GraderError(f"calculate_output {self.source!r} gave {result} with "
                              f"{dict((k, values[k]) for k in sorted(self.names))}; it must be a finite number.")
        return result


def _eval(node: ast.AST, values: Mapping[str, float]) -> Any:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # guaranteed by _check
    return FUNCTIONS[node.func.id][0](*(_eval(a, values) for a in node.args))


def parse_formula(text: Any, names: Sequence[str], where: str, problems: list[str]) -> Formula | None:
    """Check a formula against the sub-grader ``names``; problems go to ``problems`` as ``where: ...``.

    >>> f = parse_formula("0.5 * a + 0.5 * b^2", ["a", "b"], "calculate_output", [])
    >>> f.evaluate({"a": 1.0, "b": 0.5})
    0.625
    >>> errors = []; parse_formula("a + __import__('os')", ["a"], "calculate_output", errors); errors
    ["calculate_output: unknown function '__import__'. Allowed: abs, ceil, exp, floor, log, max, min, sqrt."]
    """
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: expected a formula string such as '0.5 * a + 0.5 * b', got {text!r}")
        return None
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        problems.append(f"{where}: {text!r} is not a valid formula ({exc.msg})")
        return None
    found: list[str] = []
    _check(tree, names, found)
    problems.extend(f"{where}: {p}" for p in found)
    return None if found else Formula(text.strip(), tree)
