"""The Backend contract, one module per area: everything a workspace can do, stated once.

Each area's ABC (``TrackingBackend``, ``JobsBackend``, ``DataBackend``, ``EnvironmentsBackend``,
``RegistryBackend``, ``EndpointsBackend``) imports only ``ember.entities`` and ``ember.errors``, so every
feature package may depend on any area's contract without depending on another feature. The
implementations (``Local*`` with the rules, ``Remote*`` over HTTP) live in the feature packages.
"""
