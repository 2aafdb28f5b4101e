"""Package data: the text of the plant's documents, one YAML file each (rendered by :mod:`..docs`).

Each file names its device, the document's file name (whose suffix picks the format: ``.txt``,
``.md`` or ``.pdf``), its title and its sections. A section is prose (``body``), or is filled from
the plant's tables: ``fault_codes: true`` (the device's codes), ``operating_values: true`` (its
sensors' normal values), ``schedule: true`` (its preventive jobs), or ``procedures`` (fault code ->
numbered steps). The vendors, models and documents are invented for Fathom.
"""
