"""The public tracking API: the tracker (built up by concern: ``base``, ``pricing``, ``training``, ``recording``,
``tracker``), its arguments (``options``), task windows, fingerprints and the command runner."""
