"""Benchmarks (`make bench`): speed figures against targets, a NumPy floor and a per-agent reference."""
