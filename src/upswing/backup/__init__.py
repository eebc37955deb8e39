"""Backups: create, verify, restore, prune (docs/backup.md)."""
