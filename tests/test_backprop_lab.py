"""The backward-pass explorer (playground/backprop_lab.py) driven through its widgets and callbacks: what it draws
is core's chain of tensors and gradients (equal to model.value_and_grad and to finite differences), a clicked
weight's sum, pooling's routes, the finite-difference check and one SGD step; bad input gets a message."""
import types

import numpy as np
import pytest

from core import backprop, datasets, models
from playground import backprop_lab, heatmaps, studio_arch, training


@pytest.fixture(scope="module")
def data():
    return training.load_data()


@pytest.fixture
def lab(data):
    return backprop_lab.build(backprop_lab.initial_state(), "en", data=data)


def drawn(h):
    return h.source.data["image"][0]


def test_the_example_is_a_real_test_digit_0_1_or_2_shrunk_to_8x8(lab, data):
    images, labels = backprop_lab.explorer_digits(data)
    assert set(np.unique(labels)) == {0, 1, 2} and len(labels) == np.isin(data["y_test"], [0, 1, 2]).sum()
    lab.widgets["index"].value = 7
    r = lab.result
    np.testing.assert_array_equal(r["x"], backprop.shrink_digit(images[7:8]))
    assert r["y"].tolist() == [labels[7]]


def test_every_tensor_and_gradient_drawn_is_cores_and_equals_value_and_grad(lab):
    r, state = lab.result, lab.state
    model = backprop.explorer_model()
    loss, grads, node_grads = model.value_and_grad(state["params"], r["x"], r["y"], return_activation_grads=True)
    plots = lab.views.chain.plots
    for name, _ in backprop_lab.STAGES:
        value, grad = plots[name]
        np.testing.assert_array_equal(drawn(grad), heatmaps.tiles(node_grads[name][0]))
        np.testing.assert_array_equal(drawn(value), heatmaps.tiles(r["chain"]["outputs"][name][0]))
    for name in backprop_lab.WEIGHTS:
        np.testing.assert_array_equal(drawn(plots[name + "_kernel"][1]), heatmaps.tiles(grads[name]["kernel"]))
    assert f"{float(loss):.5f}" in lab.views.chain.loss.object
    # and against finite differences, for every conv kernel weight the page can select
    for index in np.ndindex(3, 3, 1, 2):
        check = backprop.numerical_grad(model, state["params"], r["x"], r["y"], "conv", "kernel", index)
        assert check["backprop"] == pytest.approx(float(grads["conv"]["kernel"][index]), rel=1e-5, abs=1e-9)
        assert check["relative_error"] < 1e-5 or abs(check["backprop"]) < 1e-9


def test_clicking_a_kernel_gradient_selects_that_weight_and_writes_its_sum(lab):
    # filter 1's 3x3 tile starts at column 4 of the mosaic: (row 2, col 5) is K[2, 1, 0, 1]
    lab.select_weight(5.5, 2.5)
    assert lab.state["selected"] == (2, 1, 0, 1)
    terms = lab.result["terms"]
    expected = lab.result["chain"]["grads"]["conv"]["kernel"][2, 1, 0, 1]
    assert terms["total"] == pytest.approx(float(expected), rel=1e-5, abs=1e-9)
    text = lab.views.terms.text.object
    assert "∂L/∂K[2, 1, 0, 1]" in text and backprop_lab.fmt(terms["total"]) in text
    nonzero = np.count_nonzero(terms["terms"])
    total_line = text[text.index("Σ = "):].split("</p>")[0]
    assert total_line.count("×") == min(nonzero, backprop_lab.MAX_TERMS)
    assert f"{36 - nonzero} terms are 0" in text
    # the input block under that weight is highlighted: rows 2..7, cols 1..6
    assert lab.views.terms.box.data == {"left": [1], "right": [7], "top": [2], "bottom": [8]}
    assert lab.views.chain.pick.data == {"left": [5], "right": [6], "top": [2], "bottom": [3]}
    before = lab.state["selected"]
    lab.select_weight(3.5, 1.5)                        # the gap between the two filters: nothing
    lab.select_weight(None, None)
    assert lab.state["selected"] == before


def test_max_and_average_routes_are_cores_backward_on_the_same_input(lab):
    lab.select_weight(4.5, 0.5)                        # filter 1
    c = lab.result["chain"]
    routes = backprop.pool_routes(c["outputs"]["relu"], c["gradients"]["pool"], 2)
    plots = lab.views.pool.plots
    np.testing.assert_array_equal(drawn(plots["max"]), routes["max"]["dx"][0, :, :, 1])
    np.testing.assert_array_equal(drawn(plots["average"]), routes["average"]["dx"][0, :, :, 1])
    np.testing.assert_array_equal(drawn(plots["arriving"]), c["gradients"]["pool"][0, :, :, 1])
    assert np.count_nonzero(drawn(plots["max"])) <= 9 < np.count_nonzero(drawn(plots["average"])) or \
        not drawn(plots["arriving"]).any()


def test_average_pooling_changes_the_network_not_the_weights(lab):
    params = lab.state["params"]
    lab.widgets["pooling"].value = "average"
    assert lab.result["model"].layers[2].kind == "AveragePooling2D"
    assert lab.state["params"] is params
    expected = backprop.chain(backprop.explorer_model("average"), params, lab.result["x"], lab.result["y"])
    np.testing.assert_array_equal(drawn(lab.views.chain.plots["relu"][1]),
                                  heatmaps.tiles(expected["gradients"]["relu"][0]))


def test_finite_difference_check_for_the_selected_weight(lab):
    lab.select_weight(1.5, 0.5)
    lab.run_check()
    r = lab.result
    expected = backprop.numerical_grad(r["model"], lab.state["params"], r["x"], r["y"], "conv", "kernel",
                                       (0, 1, 0, 0))
    text = lab.views.check.result.object
    assert f"{expected['numerical']:.10g}" in text and f"{expected['backprop']:.10g}" in text
    assert f"{expected['relative_error']:.2e}" in text


def test_finite_difference_check_for_a_studio_architecture_uses_the_studios_trained_weights(lab, data):
    w = lab.views.check.widgets
    w["check_model"].value = "studio"
    w["check_layer"].value, w["check_index"].value = "C3", "(1, 2, 3, 4)"
    lab.run_check()
    model = models.lenet5()
    x, y = datasets.pad_to_32(data["x_test"][:8]), data["y_test"][:8]
    fresh = backprop.numerical_grad(model, model.init(seed=0), x, y, "C3", "kernel", (1, 2, 3, 4))
    assert f"{fresh['backprop']:.10g}" in lab.views.check.result.object
    # a studio that holds this architecture lends its (trained) params
    trained = model.init(seed=9)
    lab.session.trainer = types.SimpleNamespace(model=studio_arch.parse(studio_arch.lenet5_text()), params=trained)
    lab.run_check()
    want = backprop.numerical_grad(model, trained, x, y, "C3", "kernel", (1, 2, 3, 4))
    assert f"{want['backprop']:.10g}" in lab.views.check.result.object
    assert lab.state["check"]["trained"] is True


@pytest.mark.parametrize("arch,index,words", [
    (None, "9, 9, 0, 0", "index must be 4 whole numbers within the shape (5, 5, 1, 6)"),
    (None, "two, 2", "weight index must be whole numbers separated by commas"),
    ("Conv2D(6, 5)\nNope(3)", "0, 0, 0, 0", "unknown layer"),
])
def test_a_bad_studio_check_says_why_and_raises_nothing(lab, arch, index, words):
    w = lab.views.check.widgets
    w["check_model"].value = "studio"
    if arch:
        w["arch"].value = arch
    w["check_index"].value = index
    lab.run_check()
    assert "bp-error" in lab.views.check.result.object
    assert words in lab.views.check.result.object.replace("&#x27;", "'")


def test_one_sgd_step_by_hand_moves_every_weight_by_minus_lr_times_its_gradient(lab):
    state = lab.state
    before, r = state["params"], lab.result
    _, grads = r["model"].value_and_grad(before, r["x"], r["y"])
    lab.widgets["lr"].value = 0.3
    lab.take_step()
    for name, ws in before.items():
        for w, a in ws.items():
            np.testing.assert_allclose(state["params"][name][w], a - np.float32(0.3) * grads[name][w], rtol=1e-6)
    step = state["step"]
    index = state["selected"]
    assert step["w"] == pytest.approx(float(before["conv"]["kernel"][index]))
    assert step["new"] == pytest.approx(float(state["params"]["conv"]["kernel"][index]))
    assert step["loss_after"] < step["loss_before"]
    assert f"{step['loss_before']:.5f}" in lab.views.sgd.result.object
    # the chain is redrawn with the new weights
    assert lab.result["chain"]["loss"] == pytest.approx(step["loss_after"], rel=1e-5)
    lab.widgets["reset"].clicks += 1
    np.testing.assert_array_equal(state["params"]["conv"]["kernel"],
                                  backprop.explorer_model().init(seed=0)["conv"]["kernel"])


@pytest.mark.parametrize("lr", [float("nan"), None, -1.0, 0.0])
def test_a_bad_learning_rate_gets_a_message_and_leaves_the_weights(lab, lr):
    params = lab.state["params"]
    lab.widgets["lr"].value = lr
    lab.take_step()
    assert lab.state["params"] is params
    assert "learning_rate" in lab.views.sgd.result.object and "bp-error" in lab.views.sgd.result.object


def test_a_drawn_digit_becomes_the_example_and_clearing_returns_to_the_test_digit(lab):
    strokes = [([10, 14, 18], [6, 14, 22])]
    lab.views.input.strokes.data = {"xs": [strokes[0][0]], "ys": [strokes[0][1]]}
    assert lab.state["source"] == "drawing" and lab.widgets["source"].value == "drawing"
    from core import drawing
    np.testing.assert_array_equal(lab.result["x"], backprop.shrink_digit(drawing.strokes_to_image(strokes)[None]))
    lab.widgets["label"].value = 2
    assert lab.result["y"].tolist() == [2]
    lab.widgets["clear"].clicks += 1
    assert lab.state["strokes"] is None and lab.widgets["source"].value == "test"
    assert lab.result["y"].tolist() == [backprop_lab.explorer_digits(lab.data())[1][lab.state["index"]]]


def test_without_the_mnist_subset_it_shows_a_drawn_one_and_loads_later(data):
    state = backprop_lab.initial_state()
    calls = []

    def missing():
        calls.append(1)
        if len(calls) == 1:
            raise FileNotFoundError("data/mnist_subset.npz")
        return data

    lab = backprop_lab.build(state, "ko", data=None)
    lab.data = missing
    backprop_lab.load_digits(lab)
    assert lab.state["message"] and lab.digits[1].tolist() == [1]
    lab.reopen()
    assert lab.state["message"] is None and len(lab.digits[1]) > 100


def test_url_state_round_trips_through_a_fresh_explorer(lab, data):
    lab.widgets["index"].value = 12
    lab.widgets["pooling"].value = "average"
    lab.widgets["seed"].value = 4
    lab.select_weight(6.5, 1.5)
    lab.widgets["lr"].value = 0.25
    lab.take_step()
    saved = lab.url_state()
    fresh = backprop_lab.build(backprop_lab.initial_state(), "en", data=data)
    assert fresh.restore(saved) == []
    assert fresh.url_state() == saved
    assert fresh.result["x"].tolist() == backprop.shrink_digit(
        backprop_lab.explorer_digits(data)[0][12:13]).tolist()


@pytest.mark.parametrize("hostile", ["x" * 10**6, 7, {"index": 1e308}, {"selected": [5, 0, 0, 0]},
                                     {"pooling": "median", "seed": -3, "lr": float("nan")}, {"selected": "a" * 999},
                                     {"unknown": [1, 2]}])
def test_a_hostile_url_keeps_the_defaults_and_says_so(lab, hostile):
    before = lab.url_state()
    notices = lab.restore(hostile)
    assert notices and all(isinstance(k, str) and isinstance(v, dict) for k, v in notices)
    assert lab.url_state() == before
