"""Web console and REST API."""
