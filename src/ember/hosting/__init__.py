"""The serving host: routes scoring requests and supervises replicas (``python -m ember.hosting``)."""
