"""Planning without running: estimates, comparing regions, carbon-aware scheduling."""
