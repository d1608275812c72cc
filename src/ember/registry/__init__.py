"""The model registry: versioned models of content-addressed files, aliases, search and lineage."""

__all__: list[str] = []
