"""The optimizer lab's 2-D surfaces and race: gradients, paths step by step, divergence that stops, never raises."""
import math
import time

import numpy as np
import pytest

from core import optimizers as O
from core import surfaces as S
from gradcheck import assert_close, numeric_grad

POINTS = [(-1.5, 2.0), (0.3, -0.7), (1.2, 1.3), (-0.4, 0.05)]
RACERS = ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"]


@pytest.mark.parametrize("step", [None, 0, 7, 1500])
@pytest.mark.parametrize("name", sorted(S.SURFACES))
def test_gradients_match_finite_differences(name, step):
    fn = S.SURFACES[name]["fn"]
    for point in POINTS:
        xy = np.array(point)
        value, grads = fn({"xy": xy}, step)
        assert np.ndim(value) == 0 and grads["xy"].shape == (2,)
        num = numeric_grad(lambda: float(fn({"xy": xy}, step)[0]), xy)
        assert_close(grads["xy"], num, rtol=1e-6, what=f"{name} at {point}, step {step}")


def test_rosenbrock_minimum_is_at_1_1():
    value, grads = S.rosenbrock({"xy": np.array([1.0, 1.0])})
    assert value == 0 and np.array_equal(grads["xy"], [0, 0])
    g = S.grid("rosenbrock", n=201)           # extent (-2, 2) x (-1, 3): 0.02 apart, (1, 1) on the grid
    i, j = np.unravel_index(np.argmin(g["z"]), g["z"].shape)
    assert (g["x"][j], g["y"][i]) == pytest.approx((1.0, 1.0))
    assert (g["z"] > 0).sum() == g["z"].size - 1
    assert S.get("rosenbrock")["minima"] == [(1.0, 1.0)]


def test_saddle_has_a_saddle_at_the_origin_and_minima_at_0_pm1():
    for point, want in [((0.0, 0.0), 0.0), ((0.0, 1.0), -0.25), ((0.0, -1.0), -0.25)]:
        value, grads = S.saddle({"xy": np.array(point)})
        assert value == want and np.array_equal(grads["xy"], [0, 0])
    up, down = S.saddle({"xy": np.array([0.1, 0.0])})[0], S.saddle({"xy": np.array([0.0, 0.1])})[0]
    assert up > 0 > down                       # up along x, down along y: a saddle, not a minimum


def test_grid_is_the_surface_at_every_point():
    for name, spec in S.SURFACES.items():
        g = S.grid(name, n=7)
        assert g["z"].shape == (7, 7) and g["extent"] == spec["extent"]
        for i in range(7):
            for j in range(7):
                want = spec["fn"]({"xy": np.array([g["x"][j], g["y"][i]])}, None)[0]
                assert g["z"][i, j] == pytest.approx(want, rel=1e-14, abs=1e-14)
    g = S.grid("saddle", extent=(0, 1, 0, 2), n=3)
    assert g["x"].tolist() == [0, 0.5, 1] and g["y"].tolist() == [0, 1, 2]


def test_noisy_bowl_is_deterministic_in_seed_and_step():
    xy = {"xy": np.array([0.5, -0.5])}
    a = S.noisy_bowl(xy, 1500, seed=3)
    S.noisy_bowl(xy, 2, seed=3)                                 # history does not matter
    assert S.noisy_bowl(xy, 1500, seed=3)[0] == a[0]
    assert np.array_equal(S.noisy_bowl(xy, 1500, seed=3)[1]["xy"], a[1]["xy"])
    assert S.noisy_bowl(xy, 1500, seed=4)[0] != a[0]
    assert S.noisy_bowl(xy, 1501, seed=3)[0] != a[0]
    clean = S.noisy_bowl(xy, None)
    assert clean[0] == 0.5 * 0.25 + 0.25 and np.array_equal(clean[1]["xy"], [0.5, -1.0])
    # the tilt averages out: over many steps the mean gradient is the clean one
    mean = np.mean([S.noisy_bowl(xy, t, seed=1)[1]["xy"] for t in range(4000)], axis=0)
    np.testing.assert_allclose(mean, clean[1]["xy"], atol=0.06)
    quiet = S.get("noisy_bowl", noise=0.0)["fn"](xy, 5)
    assert quiet[0] == clean[0]


@pytest.mark.parametrize("name", sorted(S.SURFACES))
def test_race_paths_are_the_optimizers_own_steps(name):
    """The same objects, stepped by hand with init/update, give exactly the race's paths and losses."""
    spec = S.get(name)
    opts = S.default_optimizers(name)
    assert list(opts) == RACERS
    assert all(isinstance(o, (O.SGD, O.Adagrad, O.RMSprop, O.Adam)) for o in opts.values())
    steps = 60
    result = S.race(name, opts, steps=steps)
    assert list(result) == RACERS
    for label, opt in opts.items():
        r = result[label]
        assert r["stopped"] is None and r["stop"] is None, label
        assert r["path"].shape == (steps + 1, 2) and r["loss"].shape == (steps + 1,)
        params = {"xy": np.array(spec["start"], dtype=np.float64)}
        state = opt.init(params)
        for t in range(steps + 1):
            value, grads = spec["fn"](params, t)
            assert np.array_equal(r["path"][t], params["xy"]), (label, t)
            assert r["loss"][t] == value, (label, t)
            params, state = opt.update(grads, state, params)


def test_default_optimizers_use_the_surfaces_learning_rates():
    opts = S.default_optimizers("saddle")
    lr = S.SURFACES["saddle"]["learning_rates"]
    assert [o.learning_rate for o in opts.values()] == [lr[k] for k in RACERS]
    assert (opts["Momentum"].momentum, opts["Momentum"].nesterov) == (0.9, False)
    assert (opts["Nesterov"].momentum, opts["Nesterov"].nesterov) == (0.9, True)


def test_the_racers_get_somewhere_in_200_steps():
    """The suggested rates make a race worth watching: no path diverges, and Adam ends near a minimum."""
    for name, spec in S.SURFACES.items():
        result = S.race(name, S.default_optimizers(name), steps=200)
        for label, r in result.items():
            assert r["stopped"] is None, (name, label, r["stopped"])
            assert r["loss"][-1] < r["loss"][0], (name, label)
        end = result["Adam"]["path"][-1]
        assert min(np.abs(end - m).max() for m in spec["minima"]) < 0.35, (name, end)


@pytest.mark.parametrize("name", sorted(S.SURFACES))
def test_a_learning_rate_of_1e9_stops_the_path_without_nan(name):
    opts = {label: type(o)(1e9, **({"momentum": o.momentum, "nesterov": o.nesterov} if isinstance(o, O.SGD)
                                    else {}))
            for label, o in S.default_optimizers(name).items()}
    result = S.race(name, opts, steps=200)          # never raises
    for label, r in result.items():
        assert r["stopped"].startswith("diverged at step "), (label, r["stopped"])
        assert r["stop"]["kind"] == "out_of_bound" and r["stop"]["step"] == len(r["path"])
        assert np.isfinite(r["path"]).all() and np.isfinite(r["loss"]).all()
        assert len(r["path"]) == len(r["loss"]) < 201
        assert np.abs(r["path"]).max() <= 10 * max(abs(v) for v in S.SURFACES[name]["extent"])


def test_non_finite_updates_and_losses_stop_the_path():
    def cliff(params, step):                 # a finite point whose gradient sends the next one to -inf
        x, y = params["xy"]
        return x * x + y * y, {"xy": np.array([1e300, 0.0])}

    r = S.race(cliff, {"sgd": O.SGD(1e9)}, start=(0.5, 0.5), steps=10, bound=1e6)["sgd"]
    assert r["stop"] == {"step": 1, "kind": "not_finite", "message": r["stopped"]}
    assert "diverged at step 1: the update gave (-inf, 0.5)" == r["stopped"]
    assert r["path"].tolist() == [[0.5, 0.5]] and r["loss"].tolist() == [0.5]

    def hole(params, step):                  # the loss itself turns NaN past x = 1
        x, y = params["xy"]
        return (x * x if x < 1 else math.nan), {"xy": np.array([-1.0, 0.0])}

    r = S.race(hole, {"sgd": O.SGD(0.3)}, start=(0.0, 0.0), steps=10)["sgd"]
    assert r["stopped"] == "stopped at step 4: the loss or its gradient at (1.2, 0) is not finite"
    assert r["stop"]["kind"] == "not_finite" and r["stop"]["step"] == 4
    np.testing.assert_allclose(r["path"][:, 0], [0, 0.3, 0.6, 0.9])
    assert len(r["loss"]) == 4 and np.isfinite(r["loss"]).all()


def test_race_of_six_optimizers_for_200_steps():
    """The optimizer lab's workload (timed for the report; the browser target lives in benchmarks/)."""
    opts = S.default_optimizers("rosenbrock")
    t0 = time.perf_counter()
    result = S.race("rosenbrock", opts, steps=200)
    ms = (time.perf_counter() - t0) * 1e3
    print(f"race: 6 optimizers x 200 steps on rosenbrock in {ms:.1f} ms (CPython)")
    assert len(result) == 6 and all(r["path"].shape == (201, 2) for r in result.values())


def test_noisy_race_depends_on_the_seed_only():
    opts = S.default_optimizers("noisy_bowl")
    a = S.race(S.get("noisy_bowl", seed=1), opts, steps=50)
    b = S.race(S.get("noisy_bowl", seed=1), opts, steps=50)
    c = S.race(S.get("noisy_bowl", seed=2), opts, steps=50)
    for label in opts:
        assert np.array_equal(a[label]["path"], b[label]["path"])
        assert not np.array_equal(a[label]["path"], c[label]["path"])


@pytest.mark.parametrize("call,match", [
    (lambda: S.race("everest", {}), "unknown surface 'everest'; choose one of rosenbrock, saddle, noisy_bowl"),
    (lambda: S.race("saddle", {}, start=(np.nan, 0)), r"race: start must be a finite point \(x, y\), got \[nan, 0.0\]"),
    (lambda: S.race("saddle", {}, start=(1, 2, 3)), r"race: start must be a finite point"),
    (lambda: S.race("saddle", {}, start=(50, 0)), r"race: start \(50.0, 0.0\) lies outside the bound"),
    (lambda: S.race("saddle", {}, steps=-1), "race: steps must be an int >= 0, got -1"),
    (lambda: S.race("saddle", {}, steps=2.5), "race: steps must be an int >= 0, got 2.5"),
    (lambda: S.race("saddle", {}, bound=0), "race: bound must be a finite number > 0, got 0"),
    (lambda: S.race("saddle", [O.Adam()]), r"race: optimizers must be a dict \{label: optimizer\}, got list"),
    (lambda: S.race("saddle", {"x": "adam"}), "race: optimizer 'x' has no init/update, got str"),
    (lambda: S.race(S.saddle, {}), "race: a surface given as a function needs a start point"),
    (lambda: S.get("saddle", seed=1), "surface 'saddle' has no option 'seed'; its options: none"),
    (lambda: S.get("noisy_bowl", sed=1), "surface 'noisy_bowl' has no option 'sed'; its options: seed, noise"),
    (lambda: S.race(S.get("noisy_bowl", seed=-1), {"a": O.Adam()}), "noisy_bowl: seed must be an int >= 0, got -1"),
    (lambda: S.grid("saddle", extent=(1, 0, 0, 1)), r"grid: extent must be finite \(xmin, xmax, ymin, ymax\)"),
    (lambda: S.grid("saddle", n=1), "grid: n must be an int >= 2, got 1"),
])
def test_bad_input_is_refused_clearly(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_specs_are_copies():
    spec = S.get("rosenbrock")
    spec["learning_rates"]["Adam"] = 123.0
    spec["minima"].append((0, 0))
    assert S.SURFACES["rosenbrock"]["learning_rates"]["Adam"] != 123.0
    assert S.get("rosenbrock")["minima"] == [(1.0, 1.0)]
