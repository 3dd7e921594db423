"""The installed version, read from the package's metadata: pyproject.toml is the one place it is written
(`orders --version` and the REST API's OpenAPI document both show it)."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "order-cancellation"


def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
