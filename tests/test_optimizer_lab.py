"""The optimizer lab (playground/optimizer_lab.py) without a browser: the paths it draws are core.optimizers stepped
on core.surfaces, point by point; bad settings stop one path with a message and never blank the plot; the LeNet-5
race draws every optimizer's loss and the chosen one's state over C1's filters."""
import numpy as np
import pytest

from core import backprop, optimizers, surfaces
from playground import heatmaps, optimizer_lab, training


@pytest.fixture(scope="module")
def data():
    return training.load_data()


@pytest.fixture
def lab(data):
    state = optimizer_lab.initial_state()
    state["lenet"].update(images=64, train_size=200)
    return optimizer_lab.build(state, "en", data=data, autorun=False)


def path_by_hand(surface, name, settings, start, steps):
    """The optimizer stepped on the surface with a plain loop over core's init/update (no surfaces.race)."""
    spec = surfaces.get(surface)
    opt = optimizers.get(name, **settings)
    params = {"xy": np.array(start, np.float64)}
    state = opt.init(params)
    points = [params["xy"].copy()]
    for t in range(steps):
        _, grads = spec["fn"](params, t)
        params, state = opt.update(grads, state, params)
        points.append(params["xy"].copy())
    return np.array(points)


def drawn_path(lab, label):
    data = lab.sources["paths"][label].data
    return np.stack([np.asarray(data["x"]), np.asarray(data["y"])], axis=1)


def test_the_lab_offers_exactly_cores_surfaces():
    assert set(optimizer_lab.SURFACES) == set(surfaces.SURFACES)
    assert set(optimizer_lab.RACERS) == set(surfaces.default_optimizers("saddle"))


@pytest.mark.parametrize("surface", optimizer_lab.SURFACES)
def test_every_drawn_path_is_core_optimizers_stepped_by_hand(lab, surface):
    lab.widgets["surface"].value = surface
    start = surfaces.SURFACES[surface]["start"]
    for label, name in optimizer_lab.RACERS.items():
        expected = path_by_hand(surface, name, lab.state["racers"][label], start, lab.state["steps"])
        np.testing.assert_allclose(drawn_path(lab, label), expected, rtol=1e-12, atol=1e-12)
    assert lab.state["racers"]["Adam"]["learning_rate"] == surfaces.SURFACES[surface]["learning_rates"]["Adam"]
    assert lab.sources["surface"].data["image"][0].shape == (optimizer_lab.GRID, optimizer_lab.GRID)


def test_edited_hyperparameters_reach_the_optimizer(lab):
    lab.fields[("Momentum", "momentum")].value = 0.5
    lab.fields[("Adam", "beta_1")].value = 0.7
    lab.fields[("RMSprop", "learning_rate")].value = 0.01
    for label in ("Momentum", "Adam", "RMSprop"):
        expected = path_by_hand("rosenbrock", optimizer_lab.RACERS[label], lab.state["racers"][label],
                                surfaces.SURFACES["rosenbrock"]["start"], 200)
        np.testing.assert_allclose(drawn_path(lab, label), expected, rtol=1e-12, atol=1e-12)


def test_step_by_step_and_the_animation_show_the_path_up_to_that_step(lab):
    lab.show_step(10)
    assert len(lab.sources["paths"]["SGD"].data["x"]) == 11 and lab.widgets["shown"].value == 10
    lab.widgets["step"].clicks += 1
    assert lab.state["shown"] == 11
    heads = lab.sources["heads"].data
    assert heads["x"][0] == pytest.approx(drawn_path(lab, "SGD")[-1, 0])
    lab.widgets["play"].value = True                   # from the end, Play starts over
    frames = 0
    while lab.state["playing"]:
        lab.tick()
        frames += 1
    assert lab.state["shown"] == lab.state["steps"] and frames <= optimizer_lab.PLAY_FRAMES + 1
    assert lab.widgets["play"].value is False


def test_a_click_on_the_plot_moves_the_start(lab):
    lab.set_start(0.5, 2.0)
    for label in ("SGD", "Adam"):
        expected = path_by_hand("rosenbrock", optimizer_lab.RACERS[label], lab.state["racers"][label],
                                (0.5, 2.0), 200)
        np.testing.assert_allclose(drawn_path(lab, label), expected, rtol=1e-12)
    lab.set_start(50.0, 2.0)                           # outside the plot: ignored
    assert lab.state["start"] == [0.5, 2.0]


def test_a_learning_rate_of_1e9_stops_that_path_with_a_message(lab):
    lab.fields[("Adam", "learning_rate")].value = 1e9
    adam = lab.state["result"]["Adam"]
    assert adam["stopped"] and "diverged at step" in adam["stopped"]
    path = drawn_path(lab, "Adam")
    assert len(path) >= 1 and np.isfinite(path).all()  # a stopped path, not a blank one
    assert "Adam: diverged at step" in lab.views.surface.stops.object
    assert len(drawn_path(lab, "SGD")) == 201           # the others race on


@pytest.mark.parametrize("value", [float("nan"), None, -0.1, float("inf")])
def test_a_nan_or_empty_field_is_refused_by_name_and_the_rest_still_race(lab, value):
    lab.fields[("SGD", "learning_rate")].value = value
    assert "SGD" in lab.state["errors"] and "learning_rate" in lab.state["errors"]["SGD"]
    assert lab.sources["paths"]["SGD"].data["x"] == []
    assert "SGD: SGD: learning_rate" in lab.views.surface.stops.object
    assert len(drawn_path(lab, "Nesterov")) == 201
    assert lab.sources["surface"].data["image"][0].size > 0        # the contours stay


def test_a_momentum_of_one_and_a_bad_step_count_are_refused(lab):
    lab.fields[("Nesterov", "momentum")].value = 1.0
    assert "momentum" in lab.state["errors"]["Nesterov"]
    for steps in (0, None, 10**9):
        lab.widgets["steps"].value = steps
        assert lab.state["steps"] == 200 and lab.widgets["steps"].value == 200


def test_lenet_race_starts_every_optimizer_from_the_same_weights_and_draws_their_losses(lab):
    lab.act("start")
    rc = lab.state["lenet"]["race"]
    first = rc.lanes["adam"]["params"]
    assert all(ln["params"] is first for ln in rc.lanes.values())
    assert [type(ln["optimizer"]).__name__ for ln in rc.lanes.values()] == \
        ["SGD", "SGD", "SGD", "Adagrad", "RMSprop", "Adam"]
    while rc.status == "running":
        lab.tick()
    src = lab.views.lenet.source.data
    for name, ln in rc.lanes.items():
        assert src[name] == ln["curve"]["loss"] and len(src[name]) == len(src["images"]) > 0
    # the chosen optimizer's state over C1, and the step each weight took (core.backprop.update_taken)
    adam = rc.lanes["adam"]
    slots = lab.views.lenet.slots
    np.testing.assert_array_equal(slots[0].source.data["image"][0], heatmaps.tiles(adam["opt_state"]["m"]["C1"]["kernel"]))
    np.testing.assert_array_equal(slots[1].source.data["image"][0], heatmaps.tiles(adam["opt_state"]["v"]["C1"]["kernel"]))
    step = backprop.update_taken(adam["before"]["C1"], adam["params"]["C1"])["kernel"]
    np.testing.assert_array_equal(slots[2].source.data["image"][0], heatmaps.tiles(step))
    lab.widgets["view"].value = "momentum"
    velocity = rc.lanes["momentum"]["opt_state"]["velocity"]["C1"]["kernel"]
    np.testing.assert_array_equal(slots[0].source.data["image"][0], heatmaps.tiles(velocity))
    assert slots[0].figure.visible and slots[1].figure.visible and not slots[2].figure.visible
    lab.widgets["view"].value = "sgd"                  # plain SGD keeps no state: only its step
    assert slots[0].figure.visible and not slots[1].figure.visible


def test_url_state_round_trips_and_hostile_links_keep_the_defaults(data):
    lab = optimizer_lab.build(optimizer_lab.initial_state(), "en", data=data, autorun=False)
    lab.widgets["surface"].value = "saddle"
    lab.fields[("Adam", "learning_rate")].value = 0.2
    lab.widgets["steps"].value = 150
    lab.set_start(-1.0, 0.5)
    saved = lab.url_state()
    fresh = optimizer_lab.build(optimizer_lab.initial_state(), "en", data=data, autorun=False)
    assert fresh.restore(saved) == [] and fresh.url_state() == saved
    np.testing.assert_array_equal(drawn_path(fresh, "Adam"), drawn_path(lab, "Adam"))
    assert fresh.fields[("Adam", "learning_rate")].value == 0.2
    for hostile in ({"surface": "everest"}, {"steps": 1e308}, {"start": [1e308, 0]}, {"start": "here"},
                    {"racers": {"Adam": {"learning_rate": -1}}}, {"racers": {"Lion": {}}}, {"racers": 5},
                    {"q": "x" * 10**6}, "not a dict"):
        notices = fresh.restore(hostile)
        assert notices, hostile
        assert fresh.url_state() == saved, hostile
