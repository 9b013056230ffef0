"""Reports: briefings, event reports and review documents."""
