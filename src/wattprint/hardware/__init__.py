"""Hardware detection from the kernel's own files (no subprocess): CPU model, CPU time, memory, cgroups."""
