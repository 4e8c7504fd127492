"""ALVH Studio engine: SPX iron condors and the Adaptive Layered VIX Hedge."""
