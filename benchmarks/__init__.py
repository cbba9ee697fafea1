"""Benchmarks: speed and memory targets, each measured against a reference in the same run."""
