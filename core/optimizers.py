"""Optimizers as init/update pairs over the params tree (optax's shape, Keras' names and defaults).

    opt = Adam(learning_rate=1e-3)
    state = opt.init(params)                          # plain dicts of arrays: print it, save it
    params, state = opt.update(grads, state, params)  # pure: nothing hidden in the object

The math uses array operators only, so the same code steps NumPy and JAX arrays (and runs under jit).
"""
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


def _check_lr(learning_rate, name):
    if not learning_rate > 0:
        raise ValueError(f"{name}: learning_rate must be > 0, got {learning_rate}")


class SGD:
    """w -= lr * g; with momentum m: v = m*v + g, w -= lr * v (nesterov: w -= lr * (g + m*v)). Keras: lr 0.01."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        _check_lr(learning_rate, "SGD")
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        self.learning_rate, self.momentum, self.nesterov = learning_rate, momentum, nesterov

    def init(self, params):
        return {"velocity": _zeros(params)} if self.momentum else {}

    def update(self, grads, state, params):
        lr, m = self.learning_rate, self.momentum
        if not m:
            return tree_map(lambda p, g: p - lr * g, params, grads), state

        def step(p, g, v):
            v = m * v + g
            return p - lr * ((g + m * v) if self.nesterov else v), v

        params, velocity = tree_unzip(tree_map(step, params, grads, state["velocity"]), 2)
        return params, {"velocity": velocity}


class Adagrad:
    """Per-weight step lr / sqrt(sum of squared gradients + eps). Keras: lr 0.001, initial accumulator 0.1, eps 1e-7."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        _check_lr(learning_rate, "Adagrad")
        self.learning_rate, self.initial_accumulator_value, self.epsilon = \
            learning_rate, initial_accumulator_value, epsilon

    def init(self, params):
        return {"accumulator": _zeros(params, self.initial_accumulator_value)}

    def update(self, grads, state, params):
        lr, eps = self.learning_rate, self.epsilon

        def step(p, g, acc):
            acc = acc + g * g
            return p - lr * g / (acc + eps) ** 0.5, acc

        params, acc = tree_unzip(tree_map(step, params, grads, state["accumulator"]), 2)
        return params, {"accumulator": acc}


class RMSprop:
    """Step lr * g / sqrt(moving average of g^2 + eps). Keras: lr 0.001, rho 0.9, momentum 0, eps 1e-7."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7):
        _check_lr(learning_rate, "RMSprop")
        if not 0 <= rho < 1:
            raise ValueError(f"RMSprop: rho must be in [0, 1), got {rho}")
        self.learning_rate, self.rho, self.momentum, self.epsilon = learning_rate, rho, momentum, epsilon

    def init(self, params):
        state = {"average": _zeros(params)}
        if self.momentum:
            state["momentum"] = _zeros(params)
        return state

    def update(self, grads, state, params):
        lr, rho, m, eps = self.learning_rate, self.rho, self.momentum, self.epsilon
        if not m:
            def step(p, g, avg):
                avg = rho * avg + (1 - rho) * g * g
                return p - lr * g / (avg + eps) ** 0.5, avg

            params, avg = tree_unzip(tree_map(step, params, grads, state["average"]), 2)
            return params, {"average": avg}

        def step_m(p, g, avg, v):
            avg = rho * avg + (1 - rho) * g * g
            v = m * v + lr * g / (avg + eps) ** 0.5
            return p - v, avg, v

        params, avg, v = tree_unzip(tree_map(step_m, params, grads, state["average"], state["momentum"]), 3)
        return params, {"average": avg, "momentum": v}


class Adam:
    """Kingma & Ba: moving averages of g and g^2, bias-corrected. Keras: lr 0.001, beta_1 0.9, beta_2 0.999, eps 1e-7.

    eps is added to sqrt(v_hat) as in the paper (and optax, PyTorch).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        _check_lr(learning_rate, "Adam")
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon

    def init(self, params):
        return {"count": np.zeros((), np.int32), "m": _zeros(params), "v": _zeros(params)}

    def update(self, grads, state, params):
        lr, b1, b2, eps = self.learning_rate, self.beta_1, self.beta_2, self.epsilon
        count = state["count"] + 1
        c1, c2 = 1 - b1 ** count, 1 - b2 ** count
        if isinstance(c1, (np.ndarray, np.generic)):
            c1, c2 = float(c1), float(c2)   # NumPy scalars would promote float32 params to float64

        def step(p, g, m, v):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            return p - lr * (m / c1) / ((v / c2) ** 0.5 + eps), m, v

        params, m, v = tree_unzip(tree_map(step, params, grads, state["m"], state["v"]), 3)
        return params, {"count": count, "m": m, "v": v}


NAMES = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam}


def get(optimizer, **kwargs):
    """An optimizer object, or one made from its Keras name ("sgd", "adagrad", "rmsprop", "adam") and kwargs."""
    if hasattr(optimizer, "init") and hasattr(optimizer, "update"):
        return optimizer
    key = str(optimizer).lower()
    if key not in NAMES:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(NAMES)}")
    return NAMES[key](**kwargs)
