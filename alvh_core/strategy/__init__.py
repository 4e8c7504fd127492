"""What a trader builds: legs, tiers, the condor, the hedge and its layers, sizing and the gate, the position,
its payoff, risk, stress, management and the regime signals."""
