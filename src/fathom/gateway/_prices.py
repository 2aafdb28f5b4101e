"""Prices per million tokens, versioned, so each usage row's cost is fixed when it is written.

Covers :class:`PriceTable`, loaded from YAML or JSON and checked up front (every problem at once)::

    version: "2026-12-01"          # written into each ledger row next to its cost
    prices:
      base: {input_per_mtok: 0.02, output_per_mtok: 0.08}
      shipping: {input_per_mtok: 0.03, output_per_mtok: 0.12}
      support:triage: {input_per_mtok: 0.03, output_per_mtok: 0.10}   # model:adapter
    default: {input_per_mtok: 0.0, output_per_mtok: 0.0}              # anything unlisted

``model`` is the name clients ask the gateway for (``models[].name`` in ``gateway.yaml``), not the name a
route sends upstream, so a request costs the same whichever upstream served it; ``adapter`` is that
model's ``adapter`` label. A lookup tries ``model:adapter``, then ``model``, then ``default``.
``default`` is required, so that "unlisted models are free" is a decision someone wrote down rather than
an accident. Changing a price
means a new ``version``; rows already written keep the cost and version they were written with.

Not covered: compute-second pricing, currency other than USD, prices that change by time of day.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from fathom.errors import ConfigError, Problem, did_you_mean

__all__ = ["Price", "PriceTable"]

_PRICE_FIELDS = ("input_per_mtok", "output_per_mtok")


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input_per_mtok: float
    """Prompt tokens."""
    output_per_mtok: float
    """Completion tokens."""

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for this many tokens."""
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1_000_000


def _unknown(name: str, valid: tuple[str, ...]) -> str:
    return " ".join(part for part in ("unknown field.", did_you_mean(name, valid), f"Valid: {', '.join(valid)}.")
                    if part)


def _price(where: str, value: Any, problems: list[Problem]) -> Price | None:
    if not isinstance(value, dict):
        problems.append(Problem(where, f"must be a mapping with {' and '.join(_PRICE_FIELDS)}, got {value!r}"))
        return None
    for extra in sorted(set(value) - set(_PRICE_FIELDS)):
        problems.append(Problem(f"{where}.{extra}", _unknown(str(extra), _PRICE_FIELDS)))
    numbers = []
    for field in _PRICE_FIELDS:
        number = value.get(field)
        if field not in value:
            problems.append(Problem(f"{where}.{field}", "missing (USD per million tokens)"))
        elif isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number) or number < 0:
            problems.append(Problem(f"{where}.{field}", f"must be a number >= 0 (USD per million tokens), got "
                                    f"{number!r}"))
        else:
            numbers.append(float(number))
    return Price(*numbers) if len(numbers) == 2 else None


@dataclass(frozen=True)
class PriceTable:
    """A versioned price list; see the module docstring for the file format."""

    version: str
    prices: dict[str, Price]
    """Keyed by ``model`` or ``model:adapter``."""
    default: Price

    @classmethod
    def free(cls) -> PriceTable:
        """Everything costs 0 (version ``"free"``): the gateway's table when none is configured."""
        return cls("free", {}, Price(0.0, 0.0))

    @classmethod
    def from_dict(cls, data: Any, source: str = "price table") -> PriceTable:
        """Build and check a table; every problem is reported at once.

        Raises:
            ConfigError: listing each bad or missing field, with where it is.
        """
        problems: list[Problem] = []
        if not isinstance(data, dict):
            raise ConfigError([Problem(source, f"must be a mapping with version, prices and default, got "
                                       f"{type(data).__name__}")], title="invalid price table")
        for extra in sorted(set(data) - {"version", "prices", "default"}):
            problems.append(Problem(f"{source}: {extra}", _unknown(str(extra), ("version", "prices", "default"))))
        version = data.get("version")
        if isinstance(version, date):  # YAML reads an unquoted 2026-12-01 as a date
            version = version.isoformat()
        if not isinstance(version, str) or not version.strip():
            problems.append(Problem(f"{source}: version", f"must be a non-empty string such as '2026-12-01', got "
                                    f"{version!r}"))
        prices: dict[str, Price] = {}
        listed = data.get("prices", {})
        if not isinstance(listed, dict):
            problems.append(Problem(f"{source}: prices", f"must map model (or model:adapter) to a price, got "
                                    f"{listed!r}"))
            listed = {}
        for name, value in listed.items():
            price = _price(f"{source}: prices.{name}", value, problems)
            if price is not None:
                prices[str(name)] = price
        default = None
        if "default" not in data:
            problems.append(Problem(f"{source}: default", "missing: the price of unlisted models; write "
                                    "{input_per_mtok: 0, output_per_mtok: 0} to make them free"))
        else:
            default = _price(f"{source}: default", data["default"], problems)
        if problems or default is None or not isinstance(version, str):
            raise ConfigError(problems, title="invalid price table")
        return cls(version.strip(), prices, default)

    @classmethod
    def load(cls, path: Path) -> PriceTable:
        """Read a ``.yaml``/``.yml`` or ``.json`` price file.

        Raises:
            ConfigError: the file is missing, unreadable or invalid.
        """
        path = Path(path)
        try:
            text = path.read_text("utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as e:
            raise ConfigError([Problem(str(path), f"cannot read the price table: {e}")],
                              title="invalid price table") from e
        return cls.from_dict(data, source=str(path))

    def price(self, model: str, adapter: str | None = None) -> Price:
        """The price that applies: ``model:adapter``, else ``model``, else the default."""
        if adapter:
            found = self.prices.get(f"{model}:{adapter}")
            if found is not None:
                return found
        return self.prices.get(model, self.default)

    def cost(self, model: str, adapter: str | None, prompt_tokens: int, completion_tokens: int) -> tuple[str, float]:
        """(version, USD) for one request.

        >>> table = PriceTable.from_dict({"version": "v1", "prices": {"m": {"input_per_mtok": 1.0,
        ...     "output_per_mtok": 4.0}}, "default": {"input_per_mtok": 0, "output_per_mtok": 0}})
        >>> table.cost("m", None, 1_000_000, 500_000)
        ('v1', 3.0)
        """
        return self.version, self.price(model, adapter).cost(prompt_tokens, completion_tokens)
