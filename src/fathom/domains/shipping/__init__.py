"""The Shipping Forecast domain: NetCDF model output -> sea-area statistics -> bulletins.

The plug-in object below is what Fathom's core sees (entry point ``fathom.domains``); the
public Python API of the domain is re-exported here as the modules land.
"""

from __future__ import annotations

from fathom._plugins import DomainPlugin

plugin = DomainPlugin(
    name="shipping",
    cli="fathom.domains.shipping.cli:shipping",
    graders={"shipping": "fathom.domains.shipping._grader:shipping_grader"},
    stages={"shipping_data": "fathom.domains.shipping._stage:build_dataset_stage",
            "shipping_report": "fathom.domains.shipping._report:shipping_report_stage"},
)

__all__ = ["plugin"]
