"""2-D loss surfaces for the optimizer lab, and a race of core optimizers across them.

A surface is a plain function over a params tree, like a model's value_and_grad:

    value, grads = rosenbrock({"xy": np.array([x, y])}, step)     # grads = {"xy": array (2,)}

so the very optimizer objects that train LeNet-5 (core.optimizers, through their init/update) move the point.
`step` matters only to the noisy bowl (its noise is drawn from the seed and the step); None means the noise-free
surface, which is what the contour plot shows. The formulas broadcast: params["xy"] of shape (2, ...) gives values
of shape (...), which is how `grid` evaluates a whole contour plot in one call.

SURFACES holds each surface as plain data: its function, a start point, the plot extent (xmin, xmax, ymin, ymax),
its minima, and learning rates that make a 200-step race worth watching there.
"""
import copy
import functools
import inspect
import math

import numpy as np

from . import optimizers as O


def rosenbrock(params, step=None, a=1.0, b=100.0):
    """(a - x)^2 + b (y - x^2)^2: a curved, narrow valley, minimum 0 at (a, a^2)."""
    x, y = params["xy"][0], params["xy"][1]
    r = y - x * x
    return (a - x) ** 2 + b * r * r, {"xy": np.array([-2 * (a - x) - 4 * b * x * r, 2 * b * r])}


def saddle(params, step=None):
    """x^2/2 - y^2/2 + y^4/4: a saddle point at (0, 0) between minima -1/4 at (0, +-1); a start on the ridge (y
    near 0) sees almost no gradient towards either minimum."""
    x, y = params["xy"][0], params["xy"][1]
    return 0.5 * x * x - 0.5 * y * y + 0.25 * y ** 4, {"xy": np.array([x, y ** 3 - y])}


NOISE_CHUNK = 1024      # noise is drawn in blocks of this many steps: any step is one lookup, from any history


@functools.lru_cache(maxsize=16)
def _noise_block(seed, block):
    # a tuple of (float, float): read-only, and Python floats are the fastest to look up one step at a time
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"noisy_bowl: seed must be an int >= 0, got {seed!r}")
    return tuple(map(tuple, np.random.default_rng([seed, block]).standard_normal((NOISE_CHUNK, 2)).tolist()))


def noisy_bowl(params, step=None, seed=0, noise=1.0):
    """x^2/2 + y^2 tilted at each step by a random plane n_t . (x, y), n_t ~ noise * N(0, I) from (seed, step):
    a mini-batch's view of a bowl. The value and gradient agree at every step; averaged over steps the tilt is
    zero, so the minimum is (0, 0). step=None: the bowl without noise."""
    x, y = params["xy"][0], params["xy"][1]
    value, gx, gy = 0.5 * x * x + y * y, x, 2 * y
    if step is not None:
        nx, ny = _noise_block(seed, step // NOISE_CHUNK)[step % NOISE_CHUNK]
        nx, ny = noise * nx, noise * ny
        value, gx, gy = value + nx * x + ny * y, gx + nx, gy + ny
    return value, {"xy": np.array([gx, gy])}


SURFACES = {
    "rosenbrock": {"fn": rosenbrock, "start": (-1.2, 1.0), "extent": (-2.0, 2.0, -1.0, 3.0),
                   "minima": [(1.0, 1.0)],
                   "learning_rates": {"SGD": 1e-3, "Momentum": 1e-3, "Nesterov": 1e-3, "Adagrad": 1.0,
                                      "RMSprop": 0.05, "Adam": 0.5}},
    "saddle": {"fn": saddle, "start": (-1.8, 1e-5), "extent": (-2.0, 2.0, -1.5, 1.5),
               "minima": [(0.0, 1.0), (0.0, -1.0)],
               "learning_rates": {"SGD": 0.05, "Momentum": 0.05, "Nesterov": 0.05, "Adagrad": 0.3,
                                  "RMSprop": 0.02, "Adam": 0.05}},
    "noisy_bowl": {"fn": noisy_bowl, "start": (-2.5, 2.0), "extent": (-3.0, 3.0, -3.0, 3.0),
                   "minima": [(0.0, 0.0)],
                   "learning_rates": {"SGD": 0.05, "Momentum": 0.02, "Nesterov": 0.02, "Adagrad": 0.5,
                                      "RMSprop": 0.02, "Adam": 0.05}},
}


def get(surface, **options):
    """A surface's spec by name (a copy of SURFACES[name] plus "name"), its function bound to options (e.g.
    get("noisy_bowl", seed=3, noise=0.5)). A spec dict passes through."""
    if isinstance(surface, dict):
        if options:
            raise ValueError("surfaces.get: options go with a surface name, not with a spec")
        return surface
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; choose one of {', '.join(SURFACES)}")
    spec = dict(copy.deepcopy(SURFACES[surface]), name=surface)    # the caller may edit its copy
    if options:
        known = list(inspect.signature(spec["fn"]).parameters)[2:]
        unknown = [k for k in options if k not in known]
        if unknown:
            raise ValueError(f"surface {surface!r} has no option {unknown[0]!r}; its options: "
                             f"{', '.join(known) or 'none'}")
        spec["fn"] = functools.partial(spec["fn"], **options)
    return spec


def _spec(surface):
    """A name, a spec dict or a bare function fn(params, step) -> (value, grads) -> a spec dict."""
    if callable(surface):
        return {"fn": surface, "start": None, "extent": None}
    return get(surface)


def grid(surface, extent=None, n=100):
    """The noise-free surface on an n x n grid for a contour plot -> {"x": (n,), "y": (n,), "z": (n, n),
    "extent": (xmin, xmax, ymin, ymax)}, z[i, j] the value at (x[j], y[i]) (rows are y, as images draw).
    extent defaults to the surface's own."""
    spec = _spec(surface)
    extent = spec["extent"] if extent is None else extent
    if extent is None or len(extent) != 4 or not all(math.isfinite(v) for v in extent) \
            or not (extent[0] < extent[1] and extent[2] < extent[3]):
        raise ValueError(f"grid: extent must be finite (xmin, xmax, ymin, ymax) with min < max, got {extent!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"grid: n must be an int >= 2, got {n!r}")
    x = np.linspace(extent[0], extent[1], n)
    y = np.linspace(extent[2], extent[3], n)
    z, _ = spec["fn"]({"xy": np.stack(np.meshgrid(x, y))}, None)
    return {"x": x, "y": y, "z": z, "extent": tuple(float(v) for v in extent)}


def default_optimizers(surface):
    """The six racers with the surface's learning rates and Keras' other defaults (momentum 0.9):
    {"SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"} -> core optimizer objects."""
    lr = _spec(surface).get("learning_rates") or {}
    lr = {k: lr.get(k, 0.01) for k in ("SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")}
    return {name: O.get(name.lower(), learning_rate=rate) for name, rate in lr.items()}


def _run(fn, opt, start, steps, bound):
    """One optimizer from start: the path up to the last good point, the loss there, and why it stopped."""
    params = {"xy": start.copy()}
    state = opt.init(params)
    path, loss, stop = [start.tolist()], [], None
    finite = math.isfinite
    for t in range(steps + 1):
        value, grads = fn(params, t)
        gx, gy = grads["xy"].tolist()             # plain floats: the checks below cost ~nothing per step
        if not (finite(value) and finite(gx) and finite(gy)):
            x, y = path.pop()
            stop = {"step": t, "kind": "not_finite",
                    "message": f"stopped at step {t}: the loss or its gradient at ({x:.3g}, {y:.3g}) is not finite"}
            break
        loss.append(float(value))
        if t == steps:
            break
        params, state = opt.update(grads, state, params)
        x, y = params["xy"].tolist()
        if not (finite(x) and finite(y)):
            stop = {"step": t + 1, "kind": "not_finite",
                    "message": f"diverged at step {t + 1}: the update gave ({x:.3g}, {y:.3g})"}
            break
        if abs(x) > bound or abs(y) > bound:
            stop = {"step": t + 1, "kind": "out_of_bound",
                    "message": f"diverged at step {t + 1}: the update went to ({x:.3g}, {y:.3g}), "
                               f"outside |x|, |y| <= {bound:g}"}
            break
        path.append([x, y])
    return {"path": np.array(path, dtype=np.float64).reshape(-1, 2), "loss": np.array(loss, dtype=np.float64),
            "stopped": stop and stop["message"], "stop": stop}


def race(surface, optimizers, start=None, steps=200, bound=None):
    """Run each optimizer from the same start for `steps` steps on the surface (a name, a spec from get, or a
    function fn(params, step) -> (value, grads)).

    optimizers: {label: core optimizer object} (anything with init/update over the params tree).
    Returns {label: {"path": (k+1, 2), "loss": (k+1,) the surface's value at each point (for the noisy bowl, the
    noisy value that step saw), "stopped": None or why, "stop": None or {"step", "kind", "message"}}}, k = steps
    unless the path stopped. A path stops, never raising, when an update gives non-finite coordinates or leaves
    |x|, |y| <= bound (default 10x the surface's extent), or the loss there is not finite: the path holds only
    the finite points before that. bound: a number > 0."""
    spec = _spec(surface)
    start = spec["start"] if start is None else start
    if start is None:
        raise ValueError("race: a surface given as a function needs a start point (x, y)")
    start = np.array(start, dtype=np.float64)
    if start.shape != (2,) or not np.isfinite(start).all():
        raise ValueError(f"race: start must be a finite point (x, y), got {start.tolist()!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"race: steps must be an int >= 0, got {steps!r}")
    if bound is None:
        bound = 10 * max(abs(v) for v in spec["extent"]) if spec["extent"] else 1e6
    if not (isinstance(bound, (int, float, np.integer, np.floating)) and math.isfinite(bound) and bound > 0):
        raise ValueError(f"race: bound must be a finite number > 0, got {bound!r}")
    if np.abs(start).max() > bound:
        raise ValueError(f"race: start {tuple(start.tolist())} lies outside the bound |x|, |y| <= {bound:g}")
    if not isinstance(optimizers, dict):
        raise ValueError(f"race: optimizers must be a dict {{label: optimizer}}, got {type(optimizers).__name__}")
    for label, opt in optimizers.items():
        if not (hasattr(opt, "init") and hasattr(opt, "update")):
            raise ValueError(f"race: optimizer {label!r} has no init/update, got {type(opt).__name__}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # a diverging path is reported, plainly
        return {label: _run(spec["fn"], opt, start, steps, bound) for label, opt in optimizers.items()}
