"""The ``ember`` command-line interface (Typer + Rich); ``ember.cli.main:main`` is the entry point."""
