"""The JSON command line (``python -m alvh_core``, ``alvh``)."""

from alvh_core.cli.commands import main

__all__ = ["main"]
