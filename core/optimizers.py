"""Optimizers as init/update pairs over the params tree (optax's shape, Keras' names and defaults).

    opt = Adam(learning_rate=1e-3)
    state = opt.init(params)                          # plain dicts of arrays: print it, save it
    params, state = opt.update(grads, state, params)  # pure: nothing hidden in the object
    opt = get("nesterov", learning_rate=0.01, momentum=0.9)      # by name, as the CLIs and the studio ask
    opt = SGD(cosine_decay(0.1, total_steps=1000))    # a schedule: the rate of step t is schedule(t)
    opt = Adam(1e-3, weight_decay=0.004)              # decoupled weight decay (Keras 3, optax.adamw); = AdamW()

A learning rate is a number or a schedule, a function step -> rate (optax's way). With a schedule the state
holds the step count ("count"), so `update` needs nothing from outside and steps the same under jax.jit.
The math uses array operators only, so the same code steps NumPy and JAX arrays (and runs under jit).

Decoupled weight decay (Loshchilov & Hutter; Keras 3's `weight_decay=` on every optimizer, optax.adamw, PyTorch's
AdamW): before each step every weight shrinks by lr * weight_decay of itself, p -= lr * wd * p, apart from the
gradient (so Adam's per-weight scaling does not weaken it, as it does an L2 term in the loss). Biases decay too:
Keras decays every variable unless told to exclude some, and so does optax.adamw without a mask. Frozen layers
(trainable=False) never reach the optimizer, so they do not decay. It adds no state: the setting lives in the
optimizer object, and a resumed run passes it again (core.jax.train checks it, as it checks --optimizer).
"""
import inspect
import math

import numpy as np


def tree_map(fn, tree, *rest):
    """Apply fn leaf-wise over nested dicts (the params tree); leaves are arrays."""
    if isinstance(tree, dict):
        return {k: tree_map(fn, tree[k], *(r[k] for r in rest)) for k in tree}
    return fn(tree, *rest)


def tree_unzip(tree, n):
    """A tree whose leaves are n-tuples -> n trees."""
    if isinstance(tree, dict):
        parts = {k: tree_unzip(v, n) for k, v in tree.items()}
        return tuple({k: parts[k][i] for k in tree} for i in range(n))
    return tuple(tree)


def _zeros(tree, fill=0.0):
    return tree_map(lambda p: p * 0 + fill, tree)


def _host_scalar(x):
    # A NumPy scalar would promote float32 params to float64 (NEP 50); a Python float does not. JAX values stay.
    return float(x) if isinstance(x, (np.ndarray, np.generic)) else x


def _flushed(a):
    """`a` (a state array the step just made) with its subnormal floats set to 0, in place; JAX values as they are.

    A state that decays (momentum, moving averages) where the gradient stays 0 (a dead ReLU unit) runs down through
    the subnormal range, and x86 arithmetic on subnormal floats is about ten times slower: Adam's step on LeNet-5
    at batch 1 went from 1.1 to 1.5 ms after a thousand steps. Values under 1.2e-38 move no weight (they are
    divided by sqrt(v) + eps, or multiplied by the learning rate); the flush costs about three element-wise passes.
    """
    tiny = _TINY.get(a.dtype) if isinstance(a, np.ndarray) else None
    if tiny is not None:
        np.multiply(a, np.abs(a) >= tiny, out=a)      # no branches: a masked write slows on mixed masks
    return a


_TINY = {np.dtype(t): np.finfo(t).tiny for t in (np.float32, np.float64)}    # the smallest normal float


def _namespace(x):
    """The array library of x: jax.numpy for a traced JAX value, NumPy for everything else."""
    return x.__array_namespace__() if hasattr(x, "__array_namespace__") else np


def _check_number(value, name, lo=0.0, hi=math.inf, lo_open=True, hi_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    below = value <= lo if lo_open else value < lo
    above = value >= hi if hi_open else value > hi
    if not math.isfinite(value) or below or above:
        where = (f"{'>' if lo_open else '>='} {lo:g}" if hi == math.inf else
                 f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}")
        raise ValueError(f"{name} must be a finite number {where}, got {value!r}")


def _check_settings(kind, learning_rate, fractions=(), positive=(), nonnegative=(), weight_decay=None):
    """ValueError naming the optimizer and the setting unless: learning_rate is a number > 0 or a schedule whose
    first rate is one, each of fractions (name, value) in [0, 1), each of positive > 0 and each of nonnegative >= 0
    (all finite), and weight_decay None or >= 0 with learning_rate * weight_decay < 1."""
    if callable(learning_rate):
        try:
            first = float(learning_rate(0))
        except Exception as e:      # anything callable may be passed; say which setting it was
            raise ValueError(f"{kind}: learning_rate is callable but not a schedule step -> rate "
                             f"({type(e).__name__}: {e})") from None
        _check_number(first, f"{kind}: learning_rate (the schedule's rate at step 0)")
    else:
        _check_number(learning_rate, f"{kind}: learning_rate")
    for name, value in fractions:
        _check_number(value, f"{kind}: {name}", 0.0, 1.0, lo_open=False)
    for name, value in positive:
        _check_number(value, f"{kind}: {name}")
    for name, value in nonnegative:
        _check_number(value, f"{kind}: {name}", lo_open=False)
    if weight_decay is not None:
        _check_number(weight_decay, f"{kind}: weight_decay", lo_open=False)
        peak = float(learning_rate(0)) if callable(learning_rate) else learning_rate
        peak = max(peak, getattr(learning_rate, "peak", peak))
        if peak * weight_decay >= 1:      # each step multiplies the weights by 1 - lr * wd: <= 0 flips or zeroes them
            raise ValueError(f"{kind}: learning_rate x weight_decay must be < 1, got {peak:g} x {weight_decay:g}")


def _decay(p, lr, weight_decay):
    """Decoupled weight decay as Keras 3 applies it before the step: p - lr * wd * p (nothing when wd is None/0)."""
    return p - lr * weight_decay * p if weight_decay else p


# ---------------------------------------------------------------- learning-rate schedules

def cosine_decay(peak, total_steps, floor_ratio=0.1):
    """A schedule: step t -> floor + (peak - floor) * (1 + cos(pi * min(t, total_steps) / total_steps)) / 2.

    floor = peak * floor_ratio (nanoGPT's min_lr is a tenth of the peak; optax.cosine_decay_schedule's alpha).
    Step 0 (the first update) uses peak; from total_steps on, the floor.
    """
    _check_number(peak, "cosine_decay: peak")
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise ValueError(f"cosine_decay: total_steps must be a whole number >= 1, got {total_steps!r}")
    if isinstance(floor_ratio, bool) or not isinstance(floor_ratio, (int, float)) or not 0 <= floor_ratio <= 1:
        raise ValueError(f"cosine_decay: floor_ratio must be a number in [0, 1], got {floor_ratio!r}")
    floor = peak * floor_ratio

    def schedule(step):
        xp = _namespace(step)
        t = xp.minimum(step, total_steps)
        return _host_scalar(floor + (peak - floor) * (1 + xp.cos(math.pi * t / total_steps)) / 2)

    schedule.peak, schedule.floor, schedule.total_steps = peak, floor, total_steps   # for messages and logs
    return schedule


def _schedule_state(learning_rate):
    """The step count a schedule reads; nothing for a constant rate (so its state stays as it always was)."""
    return {"count": np.zeros((), np.int32)} if callable(learning_rate) else {}


def _rate(learning_rate, state):
    """(this step's learning rate, the schedule part of the next state)."""
    if not callable(learning_rate):
        return learning_rate, {}
    return learning_rate(state["count"]), {"count": state["count"] + 1}


# ---------------------------------------------------------------- the optimizers

class SGD:
    """w -= lr * g; with momentum m: v = m*v + g, w -= lr * v (nesterov: w -= lr * (g + m*v)). Keras: lr 0.01."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None):
        _check_settings("SGD", learning_rate, fractions=[("momentum", momentum)], weight_decay=weight_decay)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        self.learning_rate, self.momentum, self.nesterov = learning_rate, momentum, bool(nesterov)
        self.weight_decay = weight_decay

    def init(self, params):
        return {**_schedule_state(self.learning_rate), **({"velocity": _zeros(params)} if self.momentum else {})}

    def update(self, grads, state, params):
        (lr, schedule), m, wd = _rate(self.learning_rate, state), self.momentum, self.weight_decay
        if not m:
            return tree_map(lambda p, g: _decay(p, lr, wd) - lr * g, params, grads), schedule

        def step(p, g, v):
            v = _flushed(m * v + g)
            return _decay(p, lr, wd) - lr * ((g + m * v) if self.nesterov else v), v

        params, velocity = tree_unzip(tree_map(step, params, grads, state["velocity"]), 2)
        return params, {**schedule, "velocity": velocity}


class Adagrad:
    """Per-weight step lr / sqrt(sum of squared gradients + eps). Keras: lr 0.001, initial accumulator 0.1, eps 1e-7."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None):
        _check_settings("Adagrad", learning_rate, positive=[("epsilon", epsilon)],
                        nonnegative=[("initial_accumulator_value", initial_accumulator_value)], weight_decay=weight_decay)
        self.learning_rate, self.initial_accumulator_value, self.epsilon = \
            learning_rate, initial_accumulator_value, epsilon
        self.weight_decay = weight_decay

    def init(self, params):
        return {**_schedule_state(self.learning_rate), "accumulator": _zeros(params, self.initial_accumulator_value)}

    def update(self, grads, state, params):
        (lr, schedule), eps, wd = _rate(self.learning_rate, state), self.epsilon, self.weight_decay

        def step(p, g, acc):
            acc = acc + g * g
            return _decay(p, lr, wd) - lr * g / (acc + eps) ** 0.5, acc

        params, acc = tree_unzip(tree_map(step, params, grads, state["accumulator"]), 2)
        return params, {**schedule, "accumulator": acc}


class RMSprop:
    """Step lr * g / sqrt(moving average of g^2 + eps). Keras: lr 0.001, rho 0.9, momentum 0, eps 1e-7."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, weight_decay=None):
        _check_settings("RMSprop", learning_rate, fractions=[("rho", rho), ("momentum", momentum)],
                        positive=[("epsilon", epsilon)], weight_decay=weight_decay)
        self.learning_rate, self.rho, self.momentum, self.epsilon = learning_rate, rho, momentum, epsilon
        self.weight_decay = weight_decay

    def init(self, params):
        state = {**_schedule_state(self.learning_rate), "average": _zeros(params)}
        if self.momentum:
            state["momentum"] = _zeros(params)
        return state

    def update(self, grads, state, params):
        (lr, schedule), rho, m, eps = _rate(self.learning_rate, state), self.rho, self.momentum, self.epsilon
        wd = self.weight_decay
        if not m:
            def step(p, g, avg):
                avg = _flushed(rho * avg + (1 - rho) * g * g)
                return _decay(p, lr, wd) - lr * g / (avg + eps) ** 0.5, avg

            params, avg = tree_unzip(tree_map(step, params, grads, state["average"]), 2)
            return params, {**schedule, "average": avg}

        def step_m(p, g, avg, v):
            avg = _flushed(rho * avg + (1 - rho) * g * g)
            v = _flushed(m * v + lr * g / (avg + eps) ** 0.5)
            return _decay(p, lr, wd) - v, avg, v

        params, avg, v = tree_unzip(tree_map(step_m, params, grads, state["average"], state["momentum"]), 3)
        return params, {**schedule, "average": avg, "momentum": v}


class Adam:
    """Kingma & Ba: moving averages of g and g^2, bias-corrected. Keras: lr 0.001, beta_1 0.9, beta_2 0.999, eps 1e-7.

    eps is added to sqrt(v_hat) as in the paper (and optax, PyTorch). Its step count also drives a schedule.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None):
        _check_settings("Adam", learning_rate, fractions=[("beta_1", beta_1), ("beta_2", beta_2)],
                        positive=[("epsilon", epsilon)], weight_decay=weight_decay)
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.weight_decay = weight_decay

    def init(self, params):
        return {"count": np.zeros((), np.int32), "m": _zeros(params), "v": _zeros(params)}

    def update(self, grads, state, params):
        lr, _ = _rate(self.learning_rate, state)          # the schedule reads the steps taken before this one
        b1, b2, eps, wd = self.beta_1, self.beta_2, self.epsilon, self.weight_decay
        count = state["count"] + 1
        c1, c2 = _host_scalar(1 - b1 ** count), _host_scalar(1 - b2 ** count)

        def step(p, g, m, v):
            m = _flushed(b1 * m + (1 - b1) * g)
            v = _flushed(b2 * v + (1 - b2) * g * g)
            return _decay(p, lr, wd) - lr * (m / c1) / ((v / c2) ** 0.5 + eps), m, v

        params, m, v = tree_unzip(tree_map(step, params, grads, state["m"], state["v"]), 3)
        return params, {"count": count, "m": m, "v": v}


def AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Adam with decoupled weight decay (Loshchilov & Hutter), Keras 3's AdamW and its defaults (wd 0.004)."""
    return Adam(learning_rate, beta_1, beta_2, epsilon, weight_decay=weight_decay)


# ---------------------------------------------------------------- by name

def _sgd_with_momentum(nesterov):
    def make(learning_rate=0.01, momentum=0.9, weight_decay=None):
        return SGD(learning_rate, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    return make


NAMES = {"sgd": SGD, "momentum": _sgd_with_momentum(False), "nesterov": _sgd_with_momentum(True),
         "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(optimizer, **settings):
    """An optimizer object as it is, or one made from its name and settings (Keras' names and defaults).

    "sgd", "adagrad", "rmsprop", "adam", "adamw" (Adam with weight_decay 0.004); "momentum" and "nesterov" are
    SGD with momentum (default 0.9), without and with Nesterov's look-ahead. settings are the class's arguments (learning_rate may be a schedule).
    ValueError for an unknown name or a setting the optimizer does not take.
    """
    if hasattr(optimizer, "init") and hasattr(optimizer, "update"):
        if settings:
            raise ValueError(f"optimizers.get: settings {sorted(settings)} given with an optimizer object; "
                             f"pass them to its constructor instead")
        return optimizer
    key = optimizer.lower() if isinstance(optimizer, str) else None
    if key not in NAMES:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(NAMES)}")
    make = NAMES[key]
    names = list(inspect.signature(make).parameters)
    unknown = sorted(set(settings) - set(names))
    if unknown:
        takes = ", ".join(names)
        raise ValueError(f"optimizer {key!r} has no setting {', '.join(map(repr, unknown))}; it takes {takes}")
    return make(**settings)
