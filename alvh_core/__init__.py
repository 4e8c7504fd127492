"""ALVH Studio engine: SPX iron condors and the Adaptive Layered VIX Hedge."""

__version__ = "0.1.0"
