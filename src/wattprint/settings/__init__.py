"""Settings: the key registry, its sources (arguments, environment, files) and hints worded for the caller."""
