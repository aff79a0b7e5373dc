"""The package version: one place, read by the CLI, sweep manifests and result rows."""

__version__ = "0.1.0"
