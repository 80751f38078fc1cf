"""The wire format: the one serialised shape of wattprint's records, versioned (JSON, store rows, the server API)."""
