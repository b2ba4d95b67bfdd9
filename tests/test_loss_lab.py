"""The loss lab (playground/loss_lab.py) without a browser: its curves are core.losses.curve's, the race trains the
same LeNet-5 from one seed with each loss on balanced and imbalanced digits, and the recall shown is core's."""
import numpy as np
import pytest

from core import datasets, losses, metrics, models
from playground import loss_lab, training


@pytest.fixture(scope="module")
def data():
    return training.load_data()


@pytest.fixture
def lab(data):
    state = loss_lab.initial_state()
    state["settings"].update(images=64, train_size=200)
    return loss_lab.build(state, "en", data=data, autorun=False)


def run_to_the_end(lab):
    ticks = 0
    while lab.state["race"].status == "running" or loss_lab.unscored(lab.state):
        lab.tick()
        ticks += 1
    return ticks


def test_the_curves_are_core_losses_curve_and_follow_gamma_and_alpha(lab):
    src = lab.sources["curves"].data
    np.testing.assert_array_equal(src["p"], loss_lab.P_TRUE)
    for name in ("mse", "categorical_crossentropy"):
        c = losses.curve(name, loss_lab.P_TRUE)
        np.testing.assert_array_equal(src[f"{name}_loss"], c["loss"])
        np.testing.assert_array_equal(src[f"{name}_dlogit_true"], c["dlogit_true"])
    lab.widgets["gamma"].value, lab.widgets["alpha"].value = 3.5, 0.5
    focal = losses.curve("focal", loss_lab.P_TRUE, gamma=3.5, alpha=0.5)
    np.testing.assert_array_equal(lab.sources["curves"].data["focal_loss"], focal["loss"])
    np.testing.assert_array_equal(lab.sources["curves"].data["focal_dlogit_true"], focal["dlogit_true"])


def test_the_note_shows_mse_saturating_where_cross_entropy_does_not(lab):
    mse = losses.curve("mse", loss_lab.P_TRUE[:1])["dlogit_true"][0]
    ce = losses.curve("categorical_crossentropy", loss_lab.P_TRUE[:1])["dlogit_true"][0]
    note = lab.views.curves.panel.objects[-1].object
    assert f"{mse:.4f}" in note and f"{ce:.4f}" in note
    assert abs(mse) < 0.01 < 0.9 < abs(ce)           # the lecture's point, in core's numbers


def test_the_race_trains_each_loss_on_balanced_and_imbalanced_digits_from_one_seed(lab, data):
    lab.act("start")
    rc = lab.state["race"]
    assert set(rc.lanes) == {f"{l}_{d}" for l in training.LOSSES for d in ("balanced", "imbalanced")}
    start = rc.lanes["mse_balanced"]["params"]
    assert all(ln["params"] is start for ln in rc.lanes.values())          # the same weights
    x, y = datasets.class_balanced_subset(data["x_train"], data["y_train"], 200, seed=loss_lab.SEED)
    xi, yi = datasets.imbalanced_subset(x, y, training.MINORITY, training.KEEP, seed=loss_lab.SEED)
    np.testing.assert_array_equal(rc.lanes["focal_balanced"]["y"], y)
    np.testing.assert_array_equal(rc.lanes["focal_imbalanced"]["y"], yi)
    assert np.isin(yi, training.MINORITY).sum() == pytest.approx(0.1 * np.isin(y, training.MINORITY).sum(), abs=3)
    assert lab.widgets["images"].disabled and lab.widgets["start"].disabled
    run_to_the_end(lab)
    assert rc.status == "done" and all(ln["images"] == 64 for ln in rc.lanes.values())
    # the recall on the page is core's confusion matrix over core's predictions, for every run
    xt, yt = datasets.class_balanced_subset(data["x_test"], data["y_test"], loss_lab.TEST_SIZE, seed=loss_lab.SEED)
    assert np.bincount(yt).tolist() == [100] * 10
    for key, ln in rc.lanes.items():
        pred = models.lenet5().predict(ln["params"], datasets.pad_to_32(xt)).argmax(axis=1)
        recall = metrics.per_class_recall(metrics.confusion_matrix(yt, pred, 10))
        np.testing.assert_allclose(lab.state["recall"][key]["recall"], recall)
        np.testing.assert_allclose(lab.sources["recall"].data[key], recall)
        assert f"{metrics.accuracy(yt, pred):.1%}" in lab.views.recall.table.object
    assert not lab.widgets["start"].disabled and "Done" in lab.views.race.status.object


def test_focal_loss_lane_uses_the_sliders_gamma_and_alpha(lab):
    lab.widgets["gamma"].value, lab.widgets["alpha"].value = 1.0, 0.75
    lab.act("start")
    fn = lab.state["race"].lanes["focal_imbalanced"]["loss_fn"]
    z, y = np.random.default_rng(0).normal(size=(4, 10)), np.array([1, 5, 9, 0])
    np.testing.assert_allclose(fn(z, y)[0], losses.focal(z, y, gamma=1.0, alpha=0.75)[0])


def test_pause_stops_training_and_stop_still_measures_the_recall(lab):
    lab.act("start")
    lab.tick()
    rc = lab.state["race"]
    lab.act("pause")
    seen = {k: ln["images"] for k, ln in rc.lanes.items()}
    lab.tick()
    assert {k: ln["images"] for k, ln in rc.lanes.items()} == seen and rc.status == "paused"
    lab.act("resume")
    lab.act("stop")
    assert rc.status == "stopped"
    run_to_the_end(lab)
    assert set(lab.state["recall"]) == {k for k, ln in rc.lanes.items() if ln["images"]}


def test_a_refused_action_is_a_message_not_a_crash(lab):
    lab.act("pause")                                   # nothing to pause yet
    assert "cannot pause" in lab.message.object and lab.message.visible
    lab.act("start")
    lab.act("start")                                   # already running
    assert "in progress" in lab.message.object


def test_missing_data_says_so_at_start(data):
    lab = loss_lab.build(loss_lab.initial_state(), "en", autorun=False)

    def missing():
        raise FileNotFoundError("the MNIST subset is missing: run python -m core.datasets fetch")
    lab.data = missing
    lab.act("start")
    assert "MNIST subset is missing" in lab.message.object and lab.state["race"] is None


def test_url_state_round_trips_and_hostile_values_are_refused(data):
    lab = loss_lab.build(loss_lab.initial_state(), "en", data=data, autorun=False)
    lab.widgets["gamma"].value, lab.widgets["images"].value = 4.5, 3200
    saved = lab.url_state()
    fresh = loss_lab.build(loss_lab.initial_state(), "en", data=data, autorun=False)
    assert fresh.restore(saved) == [] and fresh.url_state() == saved
    assert fresh.widgets["gamma"].value == 4.5
    for hostile in ({"gamma": 1e308}, {"images": "many"}, {"alpha": float("nan")}, {"train_size": 10**40},
                    {"x": "y" * 10**6}, [1, 2], None):
        notices = fresh.restore(hostile)
        assert notices and fresh.url_state() == saved
