"""Ingest: connectors, normalisation, dedup, quarantine, scheduling and source health."""
