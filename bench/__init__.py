"""Benchmarks of the case against the bare Temporal engine; `python -m bench.run`."""
