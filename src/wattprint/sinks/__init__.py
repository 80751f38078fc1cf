"""Where runs go: the one background writer per process and its records (store, spool)."""
