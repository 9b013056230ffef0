"""Benchmarks of the alerting stage."""
