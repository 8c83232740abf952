"""Benchmarks: python -m pqltools.bench {parse,lint,eval}."""
