"""Benchmarks (not tests): ``legacy-vae bench throughput`` and ``legacy-vae bench quality``."""
