"""Organisation: people, the plan's groups and roles, stand-ins and the duty roster."""
