"""Emergency response: organisation, incident workflow, playbooks, statements, timeline, review."""
