"""The ``Experiment`` SDK object lives in ``ember.tracking.run`` beside ``Run`` (each makes the other)."""

from ember.tracking.run import Experiment

__all__ = ["Experiment"]
