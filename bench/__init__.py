"""Benchmarks (``make bench``): figures, not assertions. Each starts its own embedded stack like the tests do."""
