"""Compute targets and their launchers (local processes today)."""
