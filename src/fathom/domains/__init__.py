"""Domain plug-ins shipped with Fathom. The core never imports these; see :mod:`fathom._plugins`."""
