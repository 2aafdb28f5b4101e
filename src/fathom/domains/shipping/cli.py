"""``fathom shipping ...``: the Shipping Forecast verbs.

Each verb lives in its own ``_cli_*.py`` module and is imported only when called.
"""

from __future__ import annotations

import click

from fathom.cli import _LazyGroup

# verb -> "module:attribute" of the click command
_VERBS = {
    "stats": "fathom.domains.shipping._cli_stats:stats",
    "nwp": "fathom.domains.shipping._cli_nwp:nwp",
    "write": "fathom.domains.shipping._cli_write:write",
    "parse": "fathom.domains.shipping._cli_parse:parse",
    "score": "fathom.domains.shipping._cli_parse:score",
    "forecast": "fathom.domains.shipping._cli_forecast:forecast",
}


class _ShippingGroup(_LazyGroup):
    def _refs(self) -> dict[str, str]:
        return dict(_VERBS)


@click.group(cls=_ShippingGroup)
def shipping() -> None:
    """Shipping Forecast: model output -> sea-area statistics -> bulletins, parse and score."""
