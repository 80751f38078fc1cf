"""The public tracking API: the tracker, its windows and training bookkeeping, the command runner."""
