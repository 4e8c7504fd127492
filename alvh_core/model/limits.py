"""Where each number a user gives must lie, declared once.

The share links (:mod:`alvh_core.present.links`), the command line
(:mod:`alvh_core.cli.commands`), the pages' widgets and the engine's own
checks all take their ranges from here, so a value one of them accepts the
others accept too.  Levels in index points, vol indexes in vol points, money in
dollars, rates and yields as decimals (the links and widgets show them in %).
"""

from __future__ import annotations

#: Market levels: SPX; the vol indexes (VIX's range is also where the simulator and the spot-vol
#: link keep VIX, :mod:`alvh_core.model.spotvol`); VVIX.
SPX = (100.0, 20_000.0)
VIX = (5.0, 150.0)
VIX9D = (5.0, 200.0)
VIX3M = VIX
VIX6M = VIX
VVIX = (20.0, 300.0)
#: Continuously compounded risk-free rate and dividend yield, decimals.
RATE = (-0.05, 0.5)
DIV = (0.0, 0.2)

#: A strategy's notional, a risk budget in dollars or in % of the notional.
NOTIONAL = (1_000.0, 1e9)
RISK_DOLLARS = (1.0, 1e9)
RISK_PCT = (0.05, 100.0)
#: A backtest's starting capital: the strategy notional.
CAPITAL = NOTIONAL

#: The hedge's settings: the event multiplier on the adaptive layer, the VIX call skew, a custom
#: budget in % of notional, VIX notional per condor contract and per dollar of max loss.
EVENT_MULTIPLIER = (1.0, 5.0)
CALL_SKEW = (-1.0, 2.0)
BUDGET_PCT = (0.0, 100.0)
PER_CONTRACT = (0.0, 1e6)
PER_MAX_LOSS = (0.0, 200.0)   # notional per $ of condor max loss (seed 001: 20)

#: Exit rules: a profit target (share of the credit), a stop (multiple of the credit), closing days
#: before expiry, the tested side's distance (share of its short strike).
PROFIT_TARGET = (0.0, 1.0)
STOP_MULTIPLE = (0.0, 20.0)
EXIT_DAYS = (0, 60)
TESTED = (0.0, 0.2)

#: Trading costs: commission (dollars per contract, each way), slippage (index points per leg).
COMMISSION = (0.0, 100.0)
SLIPPAGE = (0.0, 50.0)
#: Contracts per entry when a trader fixes them.
CONTRACTS = (1, 100_000)

#: Legs a trader may add to a position (beyond the condor and the hedge layers).
MAX_ADDED_LEGS = 12


def number(value: float) -> str:
    """A limit as messages say it: 1,000,000 rather than 1e+06; 0.05 as it is."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"
