"""``fathom shipping ...``: the Shipping Forecast verbs.

Each verb lives in its own private module here and is imported only when called.
"""

from __future__ import annotations

import click

from fathom.cli import LazyGroup

# verb -> "module:attribute" of the click command
_VERBS = {
    "stats": "fathom.domains.shipping.cli._stats:stats",
    "nwp": "fathom.domains.shipping.cli._nwp:nwp",
    "write": "fathom.domains.shipping.cli._write:write",
    "parse": "fathom.domains.shipping.cli._parse:parse",
    "score": "fathom.domains.shipping.cli._parse:score",
    "forecast": "fathom.domains.shipping.cli._forecast:forecast",
}


class _ShippingGroup(LazyGroup):
    def _refs(self) -> dict[str, str]:
        return dict(_VERBS)


@click.group(cls=_ShippingGroup)
def shipping() -> None:
    """Shipping Forecast: model output -> sea-area statistics -> bulletins, parse and score."""
