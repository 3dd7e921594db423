"""Patch ids of this release (docs/versioning.md): one per release."""

V1_1 = "1.1"
