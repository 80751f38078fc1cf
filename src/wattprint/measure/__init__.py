"""Measuring: the meter (one sampler thread per process), attribution to processes and cgroups, windows."""
