"""The ``fathom.shipping.stats/1`` JSON as text: what the CLI and :func:`compute_stats_many` write.

Covers :func:`stats_json`: one run's statistics (or a list of runs) encoded with orjson, about 40x the
standard library's encoder with an indent (a 0.1 deg run is 1-2 MB of JSON, and the pure-Python
indenting encoder took longer than the statistics' percentiles). ``indent=True`` gives two spaces
per level, for a file a person opens; without it the text is compact (archives, lists of runs).
The values are those ``json.dumps`` would write (``json.loads`` of either gives equal objects);
numpy scalars are accepted, and a NaN, which :func:`compute_stats` never returns, would be ``null``.

Not covered: reading the JSON back (``json.loads``), the schema itself (``docs/shipping-stats.md``).

>>> print(stats_json({"schema": "fathom.shipping.stats/1", "areas": {}}, indent=True), end="")
{
  "schema": "fathom.shipping.stats/1",
  "areas": {}
}
>>> stats_json([{"steps": 25}])
'[{"steps":25}]\\n'
"""

from __future__ import annotations

from typing import Any

__all__ = ["stats_json"]


def stats_json(result: dict[str, Any] | list[dict[str, Any]], *, indent: bool = False) -> str:
    """``result`` as JSON text ending in a newline.

    Args:
        result: what :func:`compute_stats` (a dict) or :func:`compute_stats_many` (a list) returns.
        indent: two-space indentation (one run written for people); compact otherwise.

    Returns:
        The JSON text, ``"\\n"``-terminated.
    """
    import orjson

    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(result, option=option).decode("utf-8")
