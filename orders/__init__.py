"""The callers' side: settings, the connection to Temporal, the client module (and the CLI and API on top)."""
