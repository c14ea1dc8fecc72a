"""Backups, restore, crash safety, incidents, maintenance mode (issue 10)."""
