"""The LeNet studio page driven through its widgets and callbacks (no server, no browser): what it shows is what
the trainer and core computed; bad input shows a message and keeps the model."""
import types

import numpy as np
import panel as pn
import pytest

from core import datasets, drawing, metrics
from playground import studio, studio_arch, training, visual

TINY = 'Conv2D(4, 5, strides=2, activation="relu", name="C1")\nFlatten()\nDense(10, name="OUTPUT")'


@pytest.fixture(scope="module")
def data():
    (x, y), (xt, yt) = datasets.load_subset("mnist")
    x, y = datasets.class_balanced_subset(x, y, 300, seed=2)
    xt, yt = datasets.class_balanced_subset(xt, yt, 100, seed=2)
    return {"x_train": x, "y_train": y.astype(np.int64), "x_test": xt, "y_test": yt.astype(np.int64)}


@pytest.fixture
def page(data, monkeypatch):
    monkeypatch.setattr(studio, "TICK_S", 0.0)      # one batch per tick whatever the machine's speed: no timing
    return studio.create_page("en", data=data, autorun=False)


def train(page, **settings):
    for key, value in settings.items():
        page.widgets[key].value = value
    page.widgets["start"].clicks += 1
    while page.trainer.status == "running":
        page.tick()


def ring(cx=14, cy=14, rx=6, ry=9, n=40):
    t = np.linspace(0, 2 * np.pi, n)
    return (cx + rx * np.cos(t)).tolist(), (cy + ry * np.sin(t)).tolist()


# ---------------------------------------------------------------- layout and layer table

def test_page_builds_with_lenet_and_its_layer_table(page):
    assert isinstance(page.layout, pn.layout.Panel)
    assert page.trainer.model.count_params() == 61_706
    table = page.table.object
    for name in ("C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"):
        assert f"<td>{name}</td>" in table
    assert "<th>61,706</th>" in table and "28×28×6" in table
    assert page.layout.get_root() is not None         # bokeh can render every pane


def test_editing_the_architecture_updates_the_table_and_feature_maps(page):
    page.widgets["architecture"].value = TINY
    page.widgets["apply"].clicks += 1
    assert page.trainer.model.count_params() == 4 * 26 + 7850
    assert "14×14×4" in page.table.object and page.message.visible is False
    assert [name for name, _, _ in page.maps] == ["C1", "OUTPUT"]


def test_an_invalid_stack_shows_the_reason_and_keeps_the_model(page):
    model = page.trainer.model
    page.widgets["architecture"].value = "Conv2D(6, 5)\nDense(10)"
    page.widgets["apply"].clicks += 1
    assert page.trainer.model is model
    assert page.message.visible and page.message.alert_type == "danger"
    assert "line 2 (Dense(10)) cannot follow an output of shape (None, 28, 28, 6)" in page.message.object
    assert "add Flatten() before it" in page.message.object


def test_add_layer_inserts_before_the_output_layer(page):
    page.widgets["add_kind"].value = "Dropout"
    page.widgets["add"].clicks += 1
    lines = page.widgets["architecture"].value.splitlines()
    assert lines[-2] == "Dropout(0.25)" and lines[-1].startswith("Dense(10")
    assert [r["kind"] for r in page.trainer.layer_table][-2] == "Dropout"
    page.widgets["lenet"].clicks += 1
    assert page.widgets["architecture"].value == studio_arch.lenet5_text()


def test_a_bad_setting_is_refused_and_the_widget_put_back(page):
    page.widgets["learning_rate"].value = -1.0
    assert "learning_rate must be in" in page.message.object
    assert page.widgets["learning_rate"].value == page.trainer.config["learning_rate"] == 2e-3
    page.widgets["optimizer"].value = "rmsprop"
    assert page.trainer.config["optimizer"] == "rmsprop" and page.message.visible is False
    assert page.widgets["rho"].visible and not page.widgets["momentum"].visible


# ---------------------------------------------------------------- training through the buttons

def test_buttons_drive_the_run_and_curves_follow_the_history(page):
    w = page.widgets
    page.widgets["train_size"].value = 300
    w["start"].clicks += 1
    assert page.trainer.status == "running" and w["start"].disabled and not w["pause"].disabled
    assert w["learning_rate"].disabled                       # no settings changes mid-run
    page.tick()
    seen = page.trainer.images_seen
    assert seen > 0 and page.sources["loss_train"].data["x"] == page.trainer.history["train"]["images"]
    w["pause"].clicks += 1
    page.tick()
    assert page.trainer.images_seen == seen and page.trainer.status == "paused" and not w["resume"].disabled
    w["resume"].clicks += 1
    page.tick()
    assert page.trainer.images_seen > seen
    w["stop"].clicks += 1
    h = page.trainer.history
    assert page.trainer.status == "stopped" and "Training stopped after" in page.message.object
    assert page.sources["acc_val"].data["y"] == h["val"]["accuracy"]
    assert "Stopped" in page.status.object and f"{h['val']['accuracy'][-1]:.1%}" in page.status.object


def test_no_misclassified_panel_before_any_evaluation(page):
    assert page.trainer.test_result is None
    assert not page.figures["misclassified"].visible


def test_a_finished_run_shows_core_confusion_matrix_filters_and_misclassified(page, data):
    page.widgets["architecture"].value = TINY
    page.widgets["apply"].clicks += 1
    train(page, train_size=300, epochs=2, batch_size=32)
    tr = page.trainer
    assert tr.status == "done" and tr.history["val"]["accuracy"][-1] > 0.3     # well above chance (0.1)
    pred = tr.model.predict(tr.params, tr.x_test).argmax(axis=1)
    cm = metrics.confusion_matrix(data["y_test"], pred, 10)
    for i in range(10):
        assert f"<tr><th>{i}</th>" in page.confusion.object
    assert np.array_equal(tr.test_result["confusion"], cm)
    # filters: core's first-layer kernel, each tile scaled on its own
    kernel = tr.params["C1"]["kernel"]
    expected = visual.mosaic(np.moveaxis(kernel[:, :, 0, :], -1, 0))
    np.testing.assert_array_equal(page.sources["filters"].data["image"][0], expected)
    # misclassified: the test digits themselves, labelled true -> predicted
    wrong = metrics.misclassified(data["y_test"], pred)
    labels = page.sources["mis_labels"].data["text"]
    assert labels[0] == f"{data['y_test'][wrong[0]]}→{pred[wrong[0]]}" and len(labels) == min(len(wrong), 40)


def test_adam_lr_10_shows_the_plain_message_and_keeps_the_good_weights(page):
    page.widgets["learning_rate"].value = 10.0
    before = page.trainer.params
    train(page)
    assert page.trainer.status == "diverged" and page.message.alert_type == "danger"
    assert "The loss exploded" in page.message.object and "learning rate 10 is too high for adam" in page.message.object
    assert page.trainer.params is before
    assert not page.widgets["start"].disabled


def test_feature_maps_show_the_chosen_test_image_through_every_layer(page):
    page.widgets["index"].value = 7
    x = page.trainer.x_test[7:8]
    acts = page.trainer.model.apply(page.trainer.params, x, return_activations=True)
    np.testing.assert_array_equal(page.sources["input"].data["image"][0], x[0, :, :, 0])
    for name, _, src in page.maps:
        np.testing.assert_array_equal(src.data["image"][0], visual.mosaic(visual.channel_stack(acts[name][0])))


# ---------------------------------------------------------------- drawing

def test_a_stroke_gives_a_prediction_probabilities_and_feature_maps(page):
    page.sources["strokes"].data = {"xs": [ring()[0]], "ys": [ring()[1]]}      # what the freehand tool sends
    x = datasets.pad_to_32(drawing.strokes_to_image([ring()])[None])
    probs, acts = page.trainer.predict(x)
    assert page.sources["probs"].data["p"] == pytest.approx(probs[0].tolist())
    digit = int(probs[0].argmax())
    assert f"Prediction: {digit}" in page.prediction.object
    assert page.widgets["source"].value == "drawing"
    np.testing.assert_array_equal(page.sources["input"].data["image"][0], x[0, :, :, 0])
    page.widgets["clear"].clicks += 1
    assert "Draw a digit" in page.prediction.object and sum(page.sources["probs"].data["p"]) == 0


def test_drawing_bad_coordinates_says_so(page):
    assert page.draw([([1, float("nan")], [1, 2])]) is False
    assert "not finite" in page.message.object


# ---------------------------------------------------------------- weights files

def test_save_then_load_through_the_widgets(page, data):
    page.widgets["architecture"].value = TINY
    page.widgets["apply"].clicks += 1
    train(page, train_size=100, epochs=1)
    blob = page.widgets["save"].callback().getvalue()
    other = studio.create_page("en", data=data, autorun=False)
    assert other.load_weights("mine.npz", blob)
    assert other.widgets["architecture"].value == studio_arch.format_model(page.trainer.model)
    assert "Loaded mine.npz: 7,954 weights" in other.message.object
    x = page.trainer.x_test[:5]
    np.testing.assert_array_equal(other.trainer.predict(x)[0], page.trainer.predict(x)[0])


def test_a_corrupt_weights_file_says_why_and_keeps_the_model(page):
    model, params = page.trainer.model, page.trainer.params
    assert page.load_weights("broken.npz", b"PK\x03\x04 not really a zip") is False
    assert page.message.alert_type == "danger" and "Could not load that weights file" in page.message.object
    assert "broken.npz" in page.message.object and "Your current model is kept" in page.message.object
    assert page.trainer.model is model and page.trainer.params is params


def test_an_upload_names_the_file_even_when_its_name_arrives_after_its_bytes(page):
    """The browser sends FileInput's value, then its filename: the message ends up naming the right file."""
    blob = page.trainer.save_bytes()
    page.widgets["load"].filename = "first.npz"
    page.widgets["load"].value = blob
    assert "Loaded first.npz" in page.message.object
    page.widgets["load"].value = b"not a zip at all"        # the second upload's bytes, with the old name ...
    page.widgets["load"].filename = "second.npz"             # ... then its own name
    assert "'second.npz' is truncated or not a .npz file" in page.message.object
    assert "first.npz" not in page.message.object


# ---------------------------------------------------------------- language

def test_korean_page(data):
    page = studio.create_page("ko", data=data, autorun=False)
    assert "에포크" in page.status.object
    assert page.widgets["start"].label == "시작"


def test_a_rebuilt_page_keeps_the_trainer(page, data):
    page.widgets["train_size"].value = 100
    train(page)
    again = studio.create_page("ko", trainer=page.trainer, autorun=False)
    assert again.trainer is page.trainer
    assert again.sources["acc_val"].data["y"] == page.trainer.history["val"]["accuracy"]


def test_a_rebuilt_page_takes_a_running_run_over(data):
    """Language switch: the old page's close() stops its callback, the new page over the same trainer ticks on."""
    old = studio.create_page("en", data=data)              # autorun: a periodic callback (idle outside a server)
    old.widgets["start"].clicks += 1
    assert old.callback is not None
    old.close()
    assert old.callback is None
    new = studio.create_page("ko", trainer=old.trainer)
    assert new.callback is not None and new.trainer.status == "running"
    new.widgets["pause"].clicks += 1
    assert new.callback is None and new.trainer.status == "paused"


@pytest.fixture
def late_data(monkeypatch, data):
    """The MNIST subset arriving late, as in the site: training.load_data fails until arrive() is called."""
    arrived = []

    def load():
        if not arrived:
            raise FileNotFoundError("data/mnist_subset.npz not found")
        return data
    monkeypatch.setattr(training, "load_data", load)
    return lambda: arrived.append(True)


def test_the_page_waits_for_the_data_then_builds(late_data):
    """In the site the MNIST subset lands just after the page is ready: loading note first, the studio on retry."""
    page = studio.create_page("en", autorun=False)
    assert page.trainer is None and "Loading the MNIST digits" in page.layout[0].object
    assert page.retry() is False
    late_data()
    assert page.retry() is True and page.trainer is not None
    assert "61,706" in page.table.object


def test_a_damaged_data_file_says_so(monkeypatch):
    def damaged():
        raise ValueError("mnist_subset.npz: x_train missing or inconsistent")
    monkeypatch.setattr(training, "load_data", damaged)
    page = studio.create_page("en", autorun=False)
    assert page.trainer is None and "not available (mnist_subset.npz: x_train missing" in page.layout[0].object
    assert page.layout[0].alert_type == "danger"


def test_an_error_inside_a_tick_pauses_with_a_message(page, monkeypatch):
    page.widgets["start"].clicks += 1

    def broken(max_batches=1):
        raise TypeError("Cannot cast array data")
    monkeypatch.setattr(page.trainer, "step", broken)
    page.tick()
    assert page.trainer.status == "paused" and not page.widgets["resume"].disabled
    assert "unexpected error (TypeError: Cannot cast array data)" in page.message.object


# ---------------------------------------------------------------- settings in the URL, first screen

def test_url_state_round_trips_architecture_and_settings_not_weights(page, data):
    import json
    page.widgets["architecture"].value = TINY + "\n# a comment the student wrote"
    page.widgets["apply"].clicks += 1
    w = page.widgets
    w["optimizer"].value, w["learning_rate"].value, w["momentum"].value = "nesterov", 0.05, 0.8
    w["loss"].value, w["gamma"].value = "focal", 3.0
    w["batch_size"].value, w["epochs"].value, w["train_size"].value = 16, 2, 200
    w["dropout"].value, w["seed"].value, w["imbalanced"].value = 0.25, 7, True
    state = json.loads(json.dumps(page.url_state()))              # what the hash carries
    assert "params" not in state and state["architecture"].endswith("# a comment the student wrote")
    fresh = studio.create_page("ko", data=data, autorun=False)
    assert fresh.restore(state) == []
    assert fresh.url_state() == state
    assert fresh.widgets["architecture"].value == state["architecture"] and fresh.widgets["seed"].value == 7
    assert fresh.trainer.model.count_params() == page.trainer.model.count_params()
    assert "14×14×4" in fresh.table.object


def test_empty_curves_have_set_ranges_and_no_legend_until_there_is_data(page):
    loss, acc = page.figures["loss"], page.figures["accuracy"]
    for fig in (loss, acc):
        assert not fig.legend.visible and (fig.x_range.start, fig.x_range.end) == (0, 1)
    page.widgets["train_size"].value = 100
    train(page)
    h = page.trainer.history
    assert loss.legend.visible and acc.legend.visible
    assert loss.x_range.end == max(h["train"]["images"] + h["val"]["images"])
    assert loss.y_range.end >= max(h["train"]["loss"]) and (acc.y_range.start, acc.y_range.end) == (0, 1)


def test_the_code_view_shows_the_model_as_core_and_keras(page):
    page.widgets["architecture"].value = TINY
    page.widgets["apply"].clicks += 1
    core, keras = page.views.code.core.object, page.views.code.keras.object
    assert "L.Conv2D(4, 5, strides=2, activation=&quot;relu&quot;, name=&quot;C1&quot;)," in core
    assert "layers.Conv2D(4, 5, strides=2, activation=&quot;relu&quot;, name=&quot;C1&quot;)," in keras
    assert "Adam(learning_rate=0.002, beta_1=0.9, beta_2=0.999)" in keras
    page.widgets["optimizer"].value = "rmsprop"
    assert "RMSprop(learning_rate=0.002, rho=0.9)" in page.views.code.keras.object


def test_the_studio_room_lends_its_trainer_to_the_session_at_once(data, monkeypatch):
    # The Backprop tab's check takes the studio's trained weights from session.trainer while the studio is open;
    # before, the session saw the trainer only after a rebuild.
    monkeypatch.setattr(studio.training, "load_data", lambda: data)
    session = types.SimpleNamespace()
    page = studio.room(session, "en")
    assert session.trainer is page.trainer is not None
    page.leave()
    again = studio.room(session, "ko")                  # a language switch takes the same trainer over
    assert again.trainer is session.trainer is page.trainer
    again.leave()
