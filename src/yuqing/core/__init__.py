"""Shared infrastructure: database, clock, bus, plugin registry, text utilities."""
