"""Fathom: turn domain data into a small specialised language model you run anywhere.

The public API is re-exported from the sub-packages (``fathom.models``, ``fathom.backends``,
``fathom.datasets``, ``fathom.graders``, ``fathom.train``, ``fathom.evaluate``,
``fathom.recipes``); this top level holds only the version and the error hierarchy so that
``import fathom`` stays instant.
"""

from __future__ import annotations

from fathom.errors import FathomError

__version__ = "0.1.0"
__all__ = ["FathomError", "__version__"]
