"""API latency benchmark (issue 7)."""
