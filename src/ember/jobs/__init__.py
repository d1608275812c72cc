"""Submitted runs: snapshots, run configurations, logs, cancel, queueing on compute targets."""
