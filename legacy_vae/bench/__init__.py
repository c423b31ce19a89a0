"""Benchmarks (not tests) that print tables: ``legacy-vae bench throughput``, ``quality``, ``cluster`` and ``faithful``."""
