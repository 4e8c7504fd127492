"""Benchmarks and the docs' figures: run each as ``python -m bench.NAME`` from the repository root."""
