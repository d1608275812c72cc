"""Ember's version, in a module of its own so that low layers (the HTTP client's User-Agent) can read it."""

__version__ = "0.1.0"
