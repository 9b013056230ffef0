"""Alerts: routing, notifiers, delivery outbox, acknowledgement and escalation."""
