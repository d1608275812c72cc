"""The runner: ``python -m ember.runner <run-id>`` executes one submitted run, wherever it was launched."""
