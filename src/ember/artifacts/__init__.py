"""Persistence of bytes: artifact path rules, Ember ids and the content-addressed blob store."""

from __future__ import annotations

from ember.artifacts.blobs import CHUNK_SIZE, BlobInfo, BlobStore, is_valid_digest
from ember.artifacts.paths import (
    MAX_PATH_LENGTH,
    MAX_SEGMENT_LENGTH,
    check_id,
    is_valid_id,
    new_id,
    normalize_artifact_path,
    safe_local_files,
)

__all__ = [
    "CHUNK_SIZE",
    "MAX_PATH_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "BlobInfo",
    "BlobStore",
    "check_id",
    "is_valid_digest",
    "is_valid_id",
    "new_id",
    "normalize_artifact_path",
    "safe_local_files",
]
