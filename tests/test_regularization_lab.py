"""The regularization lab (playground/regularization_lab.py) without a browser: four runs of one LeNet-5 from one
seed on the same batches (plain, dropout, weight decay, L2), their training and test accuracy as core measures them,
and the gap between them."""
import numpy as np
import pytest

from core import datasets, models
from playground import regularization_lab, training


@pytest.fixture(scope="module")
def data():
    return training.load_data()


@pytest.fixture
def lab(data):
    state = regularization_lab.initial_state()
    state["settings"].update(train_size=100, epochs=2)
    return regularization_lab.build(state, "en", data=data, autorun=False)


def run(lab):
    lab.act("start")
    while lab.state["race"].status == "running":
        lab.tick()
    return lab.state["race"]


@pytest.mark.parametrize("place,after", [("S4", "S4"), ("flatten", "flatten"), ("F6", "F6")])
def test_dropout_goes_where_asked_and_keeps_lenets_weights(place, after):
    model = regularization_lab.dropout_model(0.3, place)
    names = [l.name for l in model.layers]
    assert names[names.index(after) + 1] == "dropout" and model.layers[names.index("dropout")].rate == 0.3
    assert model.count_params() == 61_706
    reference = models.lenet5().init(seed=0)
    assert {k: {w: a.shape for w, a in v.items()} for k, v in model.init(seed=0).items()} == \
        {k: {w: a.shape for w, a in v.items()} for k, v in reference.items()}


def test_l2_puts_keras_kernel_regularizer_on_every_kernel():
    model = regularization_lab.l2_model(0.002)
    kernels = [l for l in model.layers if l.kind in ("Conv2D", "Dense")]
    assert [l.name for l in kernels] == ["C1", "C3", "C5", "F6", "OUTPUT"]
    assert all(l.kernel_regularizer.get_config() == {"l1": 0.0, "l2": 0.002} for l in kernels)
    params = model.init(seed=0)
    assert model.penalty(params) == pytest.approx(0.002 * sum(float((params[l.name]["kernel"].astype(np.float64)
                                                                       ** 2).sum()) for l in kernels), rel=1e-5)


def test_four_runs_from_one_seed_on_the_same_batches_measured_by_core(lab, data):
    rc = run(lab)
    assert rc.status == "done" and set(rc.lanes) == set(regularization_lab.RUNS)
    plain = rc.lanes["plain"]
    assert all(ln["images"] == 200 for ln in rc.lanes.values())
    x, y = datasets.class_balanced_subset(data["x_train"], data["y_train"], 100, seed=regularization_lab.SEED)
    np.testing.assert_array_equal(plain["y"], y)
    xt, yt = plain["evals"]["test"]
    assert len(yt) == regularization_lab.TEST_SIZE and np.bincount(yt).tolist() == [50] * 10
    # the last points are core's Model.evaluate on the final params, dropout off
    for run_name, ln in rc.lanes.items():
        train_acc = ln["model"].evaluate(ln["params"], *ln["evals"]["train"])[1]
        test_acc = ln["model"].evaluate(ln["params"], xt, yt)[1]
        assert ln["scores"]["train"]["accuracy"][-1] == pytest.approx(train_acc)
        assert ln["scores"]["test"]["accuracy"][-1] == pytest.approx(test_acc)
        assert lab.sources[(run_name, "test")].data["y"] == ln["scores"]["test"]["accuracy"]
        assert f"{train_acc - test_acc:+.1%}" in lab.views.gaps.table.object
    assert type(rc.lanes["decay"]["optimizer"]).__name__ == "Adam" and rc.lanes["decay"]["optimizer"].weight_decay


def test_without_decay_or_l2_those_runs_are_the_plain_run_exactly(lab):
    """The same seed and the same batches: with weight_decay 0 and l2 0 the runs cannot differ by a single bit."""
    lab.widgets["weight_decay"].value = 0.0
    lab.widgets["l2"].value = 0.0
    rc = run(lab)
    for run_name in ("decay", "l2"):
        for w in ("kernel", "bias"):
            np.testing.assert_array_equal(rc.lanes[run_name]["params"]["C1"][w], rc.lanes["plain"]["params"]["C1"][w])
    assert not np.array_equal(rc.lanes["dropout"]["params"]["C1"]["kernel"], rc.lanes["plain"]["params"]["C1"]["kernel"])


def test_settings_are_locked_while_training_and_bad_ones_refused(lab):
    lab.act("start")
    assert lab.widgets["rate"].disabled and lab.widgets["start"].disabled
    lab.act("stop")
    assert not lab.widgets["rate"].disabled
    lab.widgets["epochs"].value = 0
    assert lab.state["settings"]["epochs"] == 2 and lab.widgets["epochs"].value == 2
    assert "epochs" in lab.message.object and lab.message.visible


def test_url_state_round_trips_and_hostile_links_keep_the_settings(data):
    lab = regularization_lab.build(regularization_lab.initial_state(), "ko", data=data, autorun=False)
    lab.widgets["place"].value = "flatten"
    lab.widgets["rate"].value = 0.3
    lab.widgets["weight_decay"].value = 1.5
    lab.widgets["l2"].value = 0.004
    saved = lab.url_state()
    fresh = regularization_lab.build(regularization_lab.initial_state(), "ko", data=data, autorun=False)
    assert fresh.restore(saved) == [] and fresh.url_state() == saved
    assert fresh.widgets["place"].value == "flatten"
    for hostile in ({"place": "C9"}, {"rate": 2}, {"epochs": -1}, {"weight_decay": "lots"}, {"l2": 1e9}, {"x": 1}, 3):
        assert fresh.restore(hostile) and fresh.url_state() == saved
