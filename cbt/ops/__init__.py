"""Operating a CBT server: backups and restores."""
