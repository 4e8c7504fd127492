"""Market data in: Cboe and other files, the network (the only code that uses it), the saved copy, option chains,
the event calendar and the listing facts (exchange days, SPX/XSP/VIX expiries, strike grids)."""
