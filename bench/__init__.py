"""Benchmarks: each prints lantian's time, a naive baseline's time (same process) and the ratio."""
