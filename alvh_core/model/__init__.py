"""The models: pricing, the vol model and its smile, the spot-vol link, VIX futures and options, distributions,
fills, the simulated market, regimes, their parameter types and fitted constants, and today's market."""
