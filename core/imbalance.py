"""Imbalanced training sets: the situation focal loss was made for (the lecture's reason to teach it).

    x, y = imbalance.imbalanced_subset(x, y, minority=(5, 6, 7, 8, 9), keep=0.1, seed=0)

NumPy only (runs under Pyodide).
"""
import numpy as np


def imbalanced_subset(x, y, minority, keep=0.1, seed=0):
    """Keep every example of the other classes and a random `keep` fraction (at least one) of each minority class.

    x (N, ...), y int labels (N,). Returns (x[idx], y[idx]) with idx ascending, so the original order is kept.
    Deterministic in seed.
    """
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"imbalanced_subset: x {x.shape} and y {y.shape} must hold the same number of examples, "
                         f"y 1-D")
    if not 0 < keep <= 1:
        raise ValueError(f"imbalanced_subset: keep must be in (0, 1], got {keep}")
    minority = sorted({int(c) for c in minority})
    present = set(np.unique(y).tolist())
    missing = [c for c in minority if c not in present]
    if missing:
        raise ValueError(f"imbalanced_subset: minority classes {missing} have no examples in y")
    rng = np.random.default_rng(seed)
    drop = []
    for c in minority:
        members = np.flatnonzero(y == c)
        n_keep = max(1, int(round(keep * len(members))))
        drop.append(rng.choice(members, len(members) - n_keep, replace=False))
    mask = np.ones(len(y), bool)
    if drop:
        mask[np.concatenate(drop)] = False
    idx = np.flatnonzero(mask)
    return x[idx], y[idx]
