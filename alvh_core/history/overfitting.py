"""How much of a backtest's best result is luck: the deflated Sharpe ratio, the probability of backtest
overfitting, and the walk-forward view of a grid of configurations.

* **Probabilistic Sharpe ratio** (Bailey and López de Prado 2012): the probability that the true Sharpe
  ratio exceeds a benchmark ``sr0``, given the observed one over ``T`` returns with their skewness and
  kurtosis: ``Φ((SR − SR0)·√(T − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²))`` (per-period Sharpe ratios).
* **Deflated Sharpe ratio** (Bailey and López de Prado 2014): the probabilistic Sharpe ratio against the
  Sharpe ratio the best of ``N`` trials would show by luck alone,
  ``SR0 = √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))``, ``V`` the variance of the trials' Sharpe
  ratios and ``γ`` Euler–Mascheroni's constant.  It falls as the grid grows.
* **Probability of backtest overfitting** (Bailey, Borwein, López de Prado and Zhu 2017), by
  combinatorially symmetric cross-validation: the returns of every configuration are cut into ``S``
  blocks of time; for every half of the blocks, the configuration best on that half is ranked on the
  other half; the share of splits where it ranks in the bottom half is the probability.

Every function takes per-period returns (one column per configuration); nothing here runs a backtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import kurtosis, norm, skew

EULER_GAMMA = 0.5772156649015329


def sharpe(returns) -> np.ndarray:
    """Per-period Sharpe ratio of each column (mean over standard deviation, ddof 1); 0 where flat."""
    r = np.asarray(returns, float)
    sd = r.std(axis=0, ddof=1)
    return np.where(sd > 0, r.mean(axis=0) / np.where(sd > 0, sd, 1.0), 0.0)


def probabilistic_sharpe_ratio(sr: float, sr0: float, periods: int, skewness: float = 0.0,
                               kurt: float = 3.0) -> float:
    """P(true SR > ``sr0``) for an observed per-period ``sr`` over ``periods`` returns with that skewness and
    (non-excess) kurtosis."""
    if periods < 2:
        raise ValueError("the probabilistic Sharpe ratio needs at least two returns")
    spread = 1.0 - skewness * sr + (kurt - 1.0) / 4.0 * sr * sr
    return float(norm.cdf((sr - sr0) * np.sqrt(periods - 1.0) / np.sqrt(max(spread, 1e-12))))


def expected_max_sharpe(trials: int, variance: float, mean: float = 0.0) -> float:
    """The Sharpe ratio the best of ``trials`` configurations would show by luck, their Sharpe ratios drawn
    with ``mean`` and ``variance`` (Bailey and López de Prado's approximation; exact in the limit)."""
    if trials < 1:
        raise ValueError("at least one configuration must have been tried")
    if trials == 1:
        return float(mean)
    z = (1.0 - EULER_GAMMA) * norm.ppf(1.0 - 1.0 / trials) + EULER_GAMMA * norm.ppf(1.0 - 1.0 / (trials * np.e))
    return float(mean + np.sqrt(max(variance, 0.0)) * z)


def deflated_sharpe_ratio(returns, trials: int, trial_sharpe_variance: float) -> float:
    """The deflated Sharpe ratio of one configuration's ``returns`` chosen as the best of ``trials``, whose
    per-period Sharpe ratios had variance ``trial_sharpe_variance``."""
    r = np.asarray(returns, float)
    sr = float(sharpe(r[:, None])[0])
    sr0 = expected_max_sharpe(trials, trial_sharpe_variance)
    return probabilistic_sharpe_ratio(sr, sr0, r.size, float(skew(r)), float(kurtosis(r, fisher=False)))


@dataclass(frozen=True)
class Overfitting:
    """The probability of backtest overfitting and what it rests on."""

    probability: float          # share of splits whose in-sample best ranks in the out-of-sample bottom half
    splits: int
    logits: np.ndarray          # ln(ω / (1 − ω)) of each split, ω the best's relative out-of-sample rank
    degradation: float          # slope of out-of-sample on in-sample Sharpe of the chosen, across splits


def probability_of_overfitting(returns, blocks: int = 16) -> Overfitting:
    """Combinatorially symmetric cross-validation over ``blocks`` (even) blocks of time of ``returns``
    (periods × configurations)."""
    m = np.asarray(returns, float)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError("overfitting needs returns of at least two configurations, one column each")
    if blocks < 2 or blocks % 2 or m.shape[0] < 2 * blocks:
        raise ValueError("use an even number of blocks, each at least two periods long")
    parts = np.array_split(np.arange(m.shape[0]), blocks)
    logits, chosen_in, chosen_out = [], [], []
    n = m.shape[1]
    for half in combinations(range(blocks), blocks // 2):
        rest = [b for b in range(blocks) if b not in half]
        inside = np.concatenate([parts[b] for b in half])
        outside = np.concatenate([parts[b] for b in rest])
        sr_in, sr_out = sharpe(m[inside]), sharpe(m[outside])
        best = int(np.argmax(sr_in))
        rank = 1 + np.sum(sr_out < sr_out[best]) + 0.5 * (np.sum(sr_out == sr_out[best]) - 1)   # 1 … n
        omega = rank / (n + 1.0)
        logits.append(np.log(omega / (1.0 - omega)))
        chosen_in.append(sr_in[best])
        chosen_out.append(sr_out[best])
    logits = np.array(logits)
    slope = float(np.polyfit(chosen_in, chosen_out, 1)[0]) if np.ptp(chosen_in) > 0 else float("nan")
    return Overfitting(float(np.mean(logits <= 0.0)), logits.size, logits, slope)


@dataclass(frozen=True)
class WalkForward:
    """The configuration chosen on the periods before a split, and how it and the best did after."""

    chosen: int                   # column chosen in sample
    best_after: int               # column that was best out of sample (after the fact)
    trials: int
    sharpe_in: float              # per-period Sharpe ratios
    sharpe_out: float
    best_sharpe_out: float
    deflated_sharpe: float        # of the chosen, in sample, against the best of ``trials`` by luck
    rank_out: int                 # the chosen's rank out of sample (1 = best)


def walk_forward(returns, split: int) -> WalkForward:
    """Choose on ``returns[:split]`` (periods × configurations), check on ``returns[split:]``."""
    m = np.asarray(returns, float)
    if m.ndim != 2 or not 2 <= split <= m.shape[0] - 2:
        raise ValueError("the split must leave at least two periods on each side")
    sr_in, sr_out = sharpe(m[:split]), sharpe(m[split:])
    chosen, best = int(np.argmax(sr_in)), int(np.argmax(sr_out))
    variance = float(np.var(sr_in, ddof=1)) if m.shape[1] > 1 else 0.0
    dsr = deflated_sharpe_ratio(m[:split, chosen], m.shape[1], variance)
    rank = int(1 + np.sum(sr_out > sr_out[chosen]))
    return WalkForward(chosen, best, int(m.shape[1]), float(sr_in[chosen]), float(sr_out[chosen]),
                       float(sr_out[best]), dsr, rank)


__all__ = ["sharpe", "probabilistic_sharpe_ratio", "expected_max_sharpe", "deflated_sharpe_ratio",
           "Overfitting", "probability_of_overfitting", "WalkForward", "walk_forward", "EULER_GAMMA"]
