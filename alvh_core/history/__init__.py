"""The strategies over history: the backtester, its slow reference, the Cboe index replicas, studies and
performance statistics."""
