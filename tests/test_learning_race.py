"""playground/race.py, the side-by-side training the learning labs share: lanes over the same images see the same
batches, each lane trains exactly `images` images, a diverging lane stops alone with core's message, and the
state machine refuses what does not fit."""
import numpy as np
import pytest

from core import layers as L, models, optimizers, step
from playground import race


def tiny():
    return models.Sequential([L.Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu", name="conv"), L.Flatten(),
                              L.Dense(3, name="out")])


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    x = rng.random((50, 6, 6, 1), dtype=np.float32)
    y = rng.integers(0, 3, 50)
    model = tiny()
    return model, model.init(seed=0), x, y


def run(rc, per_tick=3):
    rc.start()
    while rc.status == "running":
        rc.step(per_tick)


def test_lanes_over_the_same_images_see_the_same_batches_as_a_loop_of_train_steps(setup):
    model, params, x, y = setup
    rc = race.Race({"a": race.lane(model, params, optimizers.SGD(0.1), x, y, seed=4),
                    "b": race.lane(model, params, optimizers.SGD(0.1), x, y, seed=4)}, images=120, batch_size=16)
    run(rc)
    assert rc.status == "done" and rc.lanes["a"]["images"] == rc.lanes["b"]["images"] == 120
    np.testing.assert_array_equal(rc.lanes["a"]["params"]["out"]["kernel"], rc.lanes["b"]["params"]["out"]["kernel"])
    # the same run by hand: epochs of a permutation from the seed, batches of 16 (the epoch's last one shorter),
    # cut at 120 images
    order_rng, rng = np.random.default_rng(4), np.random.default_rng([4, 1])
    opt, p = optimizers.SGD(0.1), params
    state, seen = opt.init(p), 0
    while seen < 120:
        order = order_rng.permutation(50)
        for at in range(0, 50, 16):
            idx = order[at:at + min(16, 120 - seen)]
            if not len(idx):
                break
            p, state, batch = step.train_step(model, opt, rc.lanes["a"]["loss_fn"], p, state, x[idx], y[idx], rng)
            seen += len(idx)
    np.testing.assert_allclose(rc.lanes["a"]["params"]["out"]["kernel"], p["out"]["kernel"], rtol=1e-6)
    assert rc.progress == 1.0 and rc.lanes["a"]["curve"]["images"][-1] == 120


def test_a_diverging_lane_stops_alone_with_cores_message_and_its_last_good_params(setup):
    model, params, x, y = setup
    rc = race.Race({"calm": race.lane(model, params, optimizers.SGD(0.01), x, y),
                    "wild": race.lane(model, params, optimizers.SGD(1e6), x, y)}, images=200, batch_size=10)
    run(rc)
    wild, calm = rc.lanes["wild"], rc.lanes["calm"]
    assert wild["status"] == "diverged" and "training stopped: the loss became" in wild["message"]
    assert step.all_finite(wild["params"])
    assert calm["status"] == "done" and calm["images"] == 200 and rc.status == "done"


def test_evaluations_come_every_eval_every_images_and_at_the_end(setup):
    model, params, x, y = setup
    rc = race.Race({"a": race.lane(model, params, optimizers.Adam(0.01), x, y, evals={"train": (x, y)})},
                   images=130, batch_size=20, eval_every=50)
    run(rc)
    s = rc.lanes["a"]["scores"]["train"]
    assert s["images"] == [50, 100, 130]         # batches 20, 20, 10 (the epoch ends), 20, 20, 10, ...; the end
    assert s["accuracy"][-1] == pytest.approx(model.evaluate(rc.lanes["a"]["params"], x, y)[1])


def test_the_state_machine(setup):
    model, params, x, y = setup
    rc = race.Race({"a": race.lane(model, params, optimizers.SGD(0.1), x, y, evals={"t": (x, y)})}, images=100)
    for method in ("pause", "resume", "stop"):
        with pytest.raises(ValueError, match=f"cannot {method}"):
            getattr(rc, method)()
    assert rc.step(5) == 0                             # not started: nothing trains
    rc.start()
    rc.step(1)
    rc.pause()
    assert rc.step(5) == 0 and rc.lanes["a"]["images"] == 32
    rc.resume()
    rc.stop()
    assert rc.status == "stopped" and rc.lanes["a"]["status"] == "stopped"
    assert rc.lanes["a"]["scores"]["t"]["images"] == [32]      # measured where it stopped
    with pytest.raises(ValueError, match="this race is stopped"):
        rc.start()


@pytest.mark.parametrize("kwargs,words", [({"images": 0}, "images must be a whole number >= 1"),
                                          ({"images": 10, "batch_size": 2.5}, "batch_size must be a whole number"),
                                          ({"images": 10, "lanes": {}}, "at least one lane")])
def test_bad_settings_are_refused_by_name(setup, kwargs, words):
    model, params, x, y = setup
    lanes = kwargs.pop("lanes", {"a": race.lane(model, params, optimizers.SGD(0.1), x, y)})
    with pytest.raises(ValueError, match=words):
        race.Race(lanes, **kwargs)
    with pytest.raises(ValueError, match="50 images and 3 labels"):
        race.lane(model, params, optimizers.SGD(0.1), x, y[:3])
