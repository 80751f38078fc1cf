"""Accounting: energy to facility energy (PUE), emissions (intensity), water (WUE), embodied, equivalents."""
