"""Core: units, enums, errors and the result types every layer shares (imports nothing of wattprint)."""
