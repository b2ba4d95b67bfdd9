"""The Networks tab without a browser: its runner (pause, stop, the divergence rule), its settings and URL state,
and each section driven through its buttons, showing what core computed."""
import numpy as np
import pytest

from core import compare, datasets, models, step
from playground import app, i18n, networks, networks_run


@pytest.fixture(scope="module")
def raw():
    (x, y), (xt, yt) = datasets.load_subset("mnist")
    return {"x_train": x, "y_train": y.astype(np.int64), "x_test": xt, "y_test": yt.astype(np.int64)}


@pytest.fixture
def page(raw, monkeypatch):
    monkeypatch.setattr(networks, "TICK_S", 0.0)      # one piece of work per tick, whatever the machine's speed
    return networks.create_page("en", raw=raw, autorun=False)


def settle(page, key, **settings):
    """Set a section's widgets, press Start, tick until its experiment ends."""
    view = page.views[key]
    for name, value in settings.items():
        view.settings.widgets[name].value = value
    view.run.widgets["start"].clicks += 1
    while view.section.experiment.status == "running":
        page.tick()
    return view


# ---------------------------------------------------------------- the runner

def counting(results, n=5, log=None):
    for i in range(n):
        results["done"] = i + 1
        yield
    if log is not None:
        log.append("finished")


def test_an_experiment_pauses_resumes_and_ends_done():
    exp = networks_run.Experiment()
    exp.start(counting)
    assert exp.status == "running" and exp.results == {}
    exp.advance(0.0)                                   # at least one piece per call
    assert exp.results["done"] == 1
    exp.act("pause")
    assert exp.advance(10.0) is False and exp.results["done"] == 1     # nothing runs while paused
    exp.act("resume")
    with pytest.raises(ValueError, match="already running"):
        exp.start(counting)
    while exp.advance(0.0):
        pass
    assert exp.status == "done" and exp.results["done"] == 5 and exp.message[1] == "nets_msg_done"
    exp.start(counting)                                # a fresh run gets fresh results
    assert exp.results == {}


def test_stop_ends_the_generator_and_keeps_what_was_measured():
    exp, log = networks_run.Experiment(), []
    exp.start(lambda results: counting(results, 100, log))
    exp.advance(0.0)
    exp.act("stop")
    assert exp.status == "stopped" and exp.results["done"] == 1 and exp.generator is None and log == []
    with pytest.raises(ValueError, match="cannot pause"):
        exp.act("pause")


def test_a_diverging_loss_stops_with_the_last_good_params_and_the_message(raw):
    data = networks.digits(raw)
    x, y = data.train(200)
    model = compare.mlp()
    params = model.init(seed=0)
    exp = networks_run.Experiment()

    def explode(results):
        results["run"] = networks_run.new_run(model, params, x, y, learning_rate=1e4, batch_size=32)
        for _ in range(20):
            yield from networks_run.epoch(results["run"])

    exp.start(explode)
    while exp.advance(0.0):
        pass
    run = exp.results["run"]
    assert exp.status == "diverged" and exp.message[0] == "error"
    assert exp.message[1] in ("msg_diverged", "msg_nonfinite", "nets_msg_gradient")
    assert step.all_finite(run["params"]) and run["params"] is run["good"]
    loss = model.evaluate(run["params"], x, y)[0]
    assert np.isfinite(loss) and loss <= run["limit"]                  # the params left are ones the rule accepts
    assert i18n.text("ko", exp.message[1], **exp.message[2])           # the message has its words in both languages


def test_settings_are_checked_and_hostile_state_gets_defaults():
    specs = networks.networks_mlp.SETTINGS
    values, notices = networks_run.restore(specs, {"epochs": 10 ** 400, "train_size": "2000", "learning_rate": 1e-3,
                                                   "x" * 100: 1, "seed": float("nan")}, prefix="mlp.")
    assert values == dict(networks_run.defaults(specs), learning_rate=1e-3)
    assert [(key, v["name"]) for key, v in notices] == [
        ("url_refused", "mlp.epochs"), ("url_refused", "mlp.train_size"), ("url_unknown_key", "x" * 40 + "…"),
        ("url_unknown_key", "seed")]
    for hostile in (None, [], "x" * 1_000_000, 3, {"epochs": {"a": [1] * 1000}}):
        values, notices = networks_run.restore(specs, hostile)
        assert values == networks_run.defaults(specs) and len(notices) == 1
    starts = networks.networks_filters.SETTINGS["starts"]
    assert networks_run.check(starts, ["random"] * 6, "starts") == ("random",) * 6
    for bad in (["random"] * 5, ["canny"] * 6, "gaussian", [1] * 6):
        with pytest.raises(ValueError, match="starts"):
            networks_run.check(starts, bad, "starts")


# ---------------------------------------------------------------- the page and its URL state

def test_url_state_round_trips_through_a_fresh_page(page, raw):
    assert page.url_state() == {}                                    # the defaults: a link carries nothing
    page.views["mlp"].settings.widgets["epochs"].value = 5
    page.views["filters"].settings.widgets["starts"][2].value = "random"
    page.views["filters"].settings.widgets["learning_rate"].value = 0.01
    state = page.url_state()
    assert state == {"mlp": {"epochs": 5}, "filters": {"starts": ["gaussian", "sobel_x", "random", "laplacian",
                                                                  "sharpen", "random"], "learning_rate": 0.01}}
    fresh = networks.create_page("ko", raw=raw, autorun=False)
    assert fresh.restore(state) == []
    assert fresh.url_state() == state
    assert fresh.views["filters"].settings.widgets["starts"][2].value == "random"     # the widgets show it too
    assert fresh.restore({}) == [] and fresh.url_state() == {}      # a link without settings: the defaults


def test_a_hostile_url_state_gets_defaults_and_notices_in_either_language(page):
    page.views["ae"].settings.widgets["code_size"].value = 8
    notices = page.restore({"mlp": {"epochs": -1, "train_size": 10 ** 30}, "filters": "x" * 1_000_000,
                            "nope": {}, "seg": {"variant": "three", "epochs": True}})
    assert page.url_state() == {} and page.views["ae"].settings.widgets["code_size"].value == 16
    assert [key for key, _ in notices] == ["url_unknown_key", "url_refused", "url_refused", "url_bad_settings",
                                           "url_refused", "url_refused"]
    for key, values in notices:
        assert len(i18n.text("ko", key, **values)) < 300 and len(i18n.text("en", key, **values)) < 300
    assert page.restore(["not", "a", "dict"]) == [("url_bad_settings", {"why": "expected a JSON object"})]


def test_a_refused_widget_value_goes_back_to_the_setting_in_force(page):
    box = page.views["mlp"].settings.widgets["epochs"]
    box.value = 50                                                   # beyond the section's 20
    assert box.value == 3 and page.state["mlp"].settings["epochs"] == 3


# ---------------------------------------------------------------- the sections show core's numbers

def test_mlp_vs_cnn_trains_both_and_measures_them_on_moved_digits(page):
    view = settle(page, "mlp", train_size=200, epochs=1)
    models_ = view.section.experiment.results["models"]
    assert view.section.experiment.status == "done"
    table = view.results.table.object
    assert "<td>62,110</td>" in table and "<td>61,706</td>" in table
    assert "196,608 input nodes" in view.results.arithmetic.object and "19,660,900" in view.results.arithmetic.object
    xt, yt = page.data.test(networks.networks_mlp.TEST_SIZE)
    for name, model in (("mlp", compare.mlp()), ("cnn", models.lenet5())):
        entry = models_[name]
        want = [compare.accuracy_shifted(model, entry["run"]["params"], xt, yt, k) for k in range(5)]
        assert entry["shifted"] == want
        assert f"<td>{want[4]:.1%}</td>" in table
        assert view.results.sources[f"shift_{name}"].data["y"] == want
        assert view.results.sources[f"loss_{name}"].data["x"][-1] == 200     # one epoch of 200 images
    assert "Done" in view.run.status.object


def test_designed_c1_frozen_stays_and_trained_moves(page):
    view = settle(page, "filters", train_size=100, epochs=2)
    runs = view.section.experiment.results["runs"]
    assert set(runs) == {"frozen", "designed", "learned"}
    frozen, designed = runs["frozen"]["kernels"], runs["designed"]["kernels"]
    assert np.array_equal(frozen[0], frozen[-1]) and np.array_equal(frozen[0], designed[0])
    assert not np.array_equal(designed[0], designed[-1])
    assert [c["name"] for c in runs["designed"]["c1"][0][:5]] == list(page.state["filters"].settings["starts"][:5])
    assert all(len(r["accuracy"]) == 2 and len(r["c1"]) == 3 for r in runs.values())
    # the table shows the learned run's distances per epoch, as core computed them
    last = runs["learned"]["c1"][-1][0]["distance"]
    assert f"<td>{last:.2f}</td>" in view.results.table.object
    view.results.widgets["which"].value = "designed"
    assert f"<td>{runs['designed']['c1'][-1][0]['distance']:.2f}</td>" in view.results.table.object
    assert view.results.sources["acc_frozen"].data["y"] == runs["frozen"]["accuracy"]


def test_pause_answers_at_once_and_stop_keeps_the_partial_results(page):
    view = page.views["mlp"]
    view.settings.widgets["train_size"].value = 500
    view.run.widgets["start"].clicks += 1
    page.tick()
    assert view.settings.widgets["epochs"].disabled                     # settings locked during a run
    view.run.widgets["pause"].clicks += 1
    seen = view.section.experiment.results["models"]["mlp"]["run"]["seen"]
    for _ in range(5):
        page.tick()
    assert view.section.experiment.results["models"]["mlp"]["run"]["seen"] == seen
    assert "Paused" in view.run.status.object
    view.run.widgets["resume"].clicks += 1
    page.tick()
    view.run.widgets["stop"].clicks += 1
    assert view.section.experiment.status == "stopped" and "Stopped" in view.run.status.object
    assert view.run.alert.visible and not view.settings.widgets["epochs"].disabled


def test_the_tab_is_a_room_of_the_page_and_a_language_switch_takes_a_run_over(raw, monkeypatch):
    monkeypatch.setattr(networks.training, "load_data", lambda: raw)
    page = app.build_page("en")
    page.tabs.active = app.TABS.index("networks")
    room = page.networks
    room.views["mlp"].run.widgets["start"].clicks += 1
    exp = room.views["mlp"].section.experiment
    room.close()                                                       # no periodic callbacks left behind in tests
    page.lang_switch.value = "ko"
    assert page.networks is not room and page.networks.views["mlp"].section.experiment is exp
    assert exp.status == "running" and "학습 중" in page.networks.views["mlp"].run.status.object
    page.networks.close()
    exp.act("stop")


def test_the_autoencoder_reconstructs_and_decodes_a_moved_code(page):
    view = settle(page, "ae", code_size=4, train_size=200, epochs=1)
    res = view.section.experiment.results
    model, params = res["model"], res["params"]
    assert view.section.experiment.status == "done"
    assert [r["output_shape"] for r in model.layer_table() if r["name"] == "code"] == [(4,)]
    xt = res["xt"]
    test = view.results.sources["test"].data
    assert test["x"] == [200] and test["y"] == [model.evaluate(params, xt, xt, loss="mse")] and test["seconds"][0] > 0
    np.testing.assert_array_equal(res["shown"], model.apply(params, xt[:networks.networks_ae.SHOWN]))
    assert "4 numbers for 784 pixels (196 times fewer)" in view.results.code.size.object
    w = view.results.widgets
    w["digit"].value = 3
    code = compare.code_space(model, params, xt)["codes"][3]
    assert w["value_a"].value == pytest.approx(code[0]) and w["value_b"].value == pytest.approx(code[1])
    w["unit_b"].value = 2
    w["value_b"].value = w["value_b"].end
    shown = view.results.sources["decoded"].data["image"][0]
    want = compare.decode(model, params, code, {0: w["value_a"].value, 2: w["value_b"].end})[..., 0]
    np.testing.assert_allclose(shown, want, atol=1e-6)


def test_segmentation_shows_masks_and_the_iou_core_measured(page):
    view = settle(page, "seg", train_size=100, epochs=1)
    res = view.section.experiment.results
    run = res["run"]
    xt, mt = networks.networks_seg.masked_data(page.data, "single", "test", networks.networks_seg.TEST_SIZE)
    found = compare.digit_iou(mt, run["model"].predict(run["params"], xt))
    mean = view.results.sources["mean"].data
    assert mean["x"] == [100] and np.allclose(mean["y"], [found["mean_digits"]], equal_nan=True)
    np.testing.assert_array_equal(np.nan_to_num(res["per_class"]), view.results.sources["iou"].data["iou"])
    masks = view.results.sources["masks"].data["image"][0]
    assert masks.shape == (2 * 28 + 1, 4 * 28 + 3)                       # true masks over predicted ones
    np.testing.assert_array_equal(masks[:28, :28], mt[0])


def test_segmentation_of_two_digit_canvases_works_at_56x56(page):
    view = settle(page, "seg", variant="pairs", train_size=40, epochs=1)
    assert view.section.experiment.status == "done"
    assert view.section.experiment.results["run"]["model"].input_shape == (56, 56, 1)
    assert view.results.sources["masks"].data["image"][0].shape == (2 * 56 + 1, 4 * 56 + 3)


def test_a_link_opens_the_tab_with_its_settings(raw, monkeypatch):
    from playground import urlstate
    monkeypatch.setattr(networks.training, "load_data", lambda: raw)
    page = app.build_page("en")
    notices = page.apply_url(urlstate.encode("networks", "ko", {"ae": {"code_size": 4}, "seg": {"epochs": 0}}))
    assert [key for key, _ in notices] == ["url_refused"] and page.lang == "ko"
    assert page.networks.views["ae"].settings.widgets["code_size"].value == 4
    assert page.current_url() == urlstate.encode("networks", "ko", {"ae": {"code_size": 4}})
    page.networks.close()


def test_an_unexpected_error_stops_the_section_and_says_why(page, monkeypatch):
    def broken(data, settings, results):
        yield
        raise RuntimeError("boom")

    monkeypatch.setattr(networks.networks_mlp, "experiment", broken)
    view = page.views["mlp"]
    view.run.widgets["start"].clicks += 1
    for _ in range(3):
        page.tick()
    assert view.section.experiment.status == "stopped" and page.callback is None
    assert view.run.alert.visible and "RuntimeError: boom" in view.run.alert.object
    assert view.run.alert.alert_type == "danger" and not view.run.widgets["start"].disabled
