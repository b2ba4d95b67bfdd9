"""The studio's training controller (playground/training.py), driven without a browser: the state machine,
chunked stepping, divergence recovery, weights files, settings, and the inputs the page feeds it."""
import io
import math

import numpy as np
import pytest

from core import datasets, losses, models, optimizers, step
from playground import studio_arch, training as T

TINY = 'Conv2D(4, 5, strides=2, activation="relu", name="C1")\nFlatten()\nDense(10, name="OUTPUT")'


@pytest.fixture(scope="module")
def data():
    """400 training and 200 test digits of the shipped subset (class-balanced)."""
    (x, y), (xt, yt) = datasets.load_subset("mnist")
    x, y = datasets.class_balanced_subset(x, y, 400, seed=1)
    xt, yt = datasets.class_balanced_subset(xt, yt, 200, seed=1)
    return {"x_train": x, "y_train": y.astype(np.int64), "x_test": xt, "y_test": yt.astype(np.int64)}


def same_params(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k][w], b[k][w]) for k in a for w in a[k])


def run_to_end(trainer, chunk=5):
    while trainer.status == "running":
        trainer.step(chunk)


# ---------------------------------------------------------------- the state machine

def test_start_pause_resume_stop(data):
    t = T.Trainer(data, architecture=TINY, batch_size=32, epochs=2)
    assert t.status == "ready" and t.images_seen == 0
    t.start()
    assert t.step(3) == 3 and t.images_seen == 96
    t.pause()
    before = {k: {w: a.copy() for w, a in v.items()} for k, v in t.params.items()}
    assert t.step(5) == 0 and t.images_seen == 96            # a paused run does not move
    assert same_params(t.params, before)
    with pytest.raises(ValueError, match="cannot pause: training is paused"):
        t.pause()
    t.resume()
    assert t.step(2) == 2 and t.images_seen == 160
    t.stop()
    assert t.status == "stopped" and t.message[1] == "msg_stopped"
    assert t.step(1) == 0
    assert t.history["val"]["images"][-1] == 160            # stopping checks the test set once more
    with pytest.raises(ValueError, match="cannot resume: training is stopped"):
        t.resume()


def test_a_run_trains_every_batch_of_every_epoch_then_is_done(data):
    # 400 images: 7 batches an epoch, the last one of 16
    t = T.Trainer(data, architecture=TINY, batch_size=64, epochs=2)
    t.start()
    counts = []
    while t.status == "running":
        counts.append(t.step(3))
    assert sum(counts) == 14 and t.images_seen == 800 and t.epochs_done == 2
    assert t.status == "done" and t.progress == 1.0
    assert t.history["val"]["images"][-2:] == [400, 800]      # one full test-set check per epoch end
    assert t.test_result["confusion"].sum() == 200


def test_chunk_size_does_not_change_the_math(data):
    """Stepping 1 batch per tick or 7 per tick gives the same weights: the page's chunking is invisible."""
    a, b = (T.Trainer(data, architecture=TINY, batch_size=50, epochs=1, dropout=0.3) for _ in range(2))
    a.start(), b.start()
    run_to_end(a, 1), run_to_end(b, 7)
    assert same_params(a.params, b.params)


def test_training_learns_above_chance(data):
    t = T.Trainer(data, architecture=TINY, batch_size=32, epochs=3)
    t.start()
    run_to_end(t, 10)
    acc = t.history["val"]["accuracy"]
    assert acc[-1] > 0.5                                      # 1,200 images already beat chance (0.1) easily
    assert t.history["train"]["loss"][-1] < t.history["train"]["loss"][0]


def test_steps_follow_core_optimizer_update_exactly(data):
    """One controller step = core's forward/loss/backward + optimizer.update on the same shuffled batch."""
    t = T.Trainer(data, batch_size=16, epochs=1, optimizer="momentum", learning_rate=0.05)
    p0 = t.params
    t.start()
    idx = np.random.default_rng(0).permutation(400)[:16]      # the run's rng: seed 0, first epoch
    t.step(1)
    x = datasets.pad_to_32(data["x_train"][idx])
    _, grads = t.model.value_and_grad(p0, x, data["y_train"][idx])
    opt = optimizers.SGD(0.05, momentum=0.9)
    expected, _ = opt.update(grads, opt.init(p0), p0)
    for k in expected:
        for w in expected[k]:
            np.testing.assert_allclose(t.params[k][w], expected[k][w], rtol=1e-5, atol=1e-7)


def test_reset_redraws_the_seeded_weights_and_clears_the_curves(data):
    t = T.Trainer(data, epochs=1)
    t.start()
    t.step(2)
    t.stop()
    t.reset()
    assert t.status == "ready" and t.images_seen == 0 and t.history["train"]["loss"] == []
    assert same_params(t.params, t.model.init(seed=0))


def test_start_again_continues_from_the_trained_weights(data):
    t = T.Trainer(data, architecture=TINY, epochs=1)
    t.start()
    run_to_end(t)
    trained = t.params
    t.start()
    assert t.params is trained and t.status == "running"
    t.step(1)
    assert t.images_seen == 400 + 64


# ---------------------------------------------------------------- divergence

def test_adam_lr_10_stops_with_a_plain_message_and_restores_the_last_good_weights(data):
    t = T.Trainer(data, optimizer="adam", learning_rate=10.0, batch_size=32)
    start = t.params
    t.start()
    run_to_end(t, 1)
    assert t.status == "diverged"
    kind, key, values = t.message
    assert (kind, key) == ("error", "msg_diverged") and values["lr"] == 10.0 and values["loss"] > 1000
    # The first batch's loss was ordinary (its params are the start); the update from it exploded.
    assert same_params(t.params, start)


def test_a_nan_loss_restores_the_params_before_the_step_that_made_it(data, monkeypatch):
    monkeypatch.setattr(step, "DIVERGE_FACTOR", math.inf)       # only NaN/inf counts: reach it with SGD at 1e4
    t = T.Trainer(data, optimizer="sgd", learning_rate=1e4, batch_size=32)
    t.start()
    snapshots = []
    while t.status == "running":
        snapshots.append(t.params)
        t.step(1)
    assert t.status == "diverged" and t.message[1] == "msg_nonfinite"
    assert len(snapshots) >= 2
    assert same_params(t.params, snapshots[-2])                # the last params whose loss was finite
    assert all(np.isfinite(a).all() for v in t.params.values() for a in v.values())
    assert all(math.isfinite(v) for v in t.history["train"]["loss"])


# ---------------------------------------------------------------- weights files

def test_save_and_load_round_trip_gives_the_same_predictions(data):
    t = T.Trainer(data, epochs=1)
    t.start()
    run_to_end(t)
    blob = t.save_bytes()
    u = T.Trainer(data, architecture=TINY)
    u.load_bytes(blob, "mine.npz")
    assert u.model.count_params() == 61_706 and u.status == "ready" and u.message[1] == "msg_loaded"
    x = t.x_test[:20]
    np.testing.assert_array_equal(u.predict(x)[0], t.predict(x)[0])
    assert studio_arch.parse(u.config["architecture"]).count_params() == 61_706


def test_loads_a_file_written_by_core_save(data, tmp_path):
    model = models.lenet5()
    params = model.init(seed=5)
    models.save(tmp_path / "w.npz", model, params)
    t = T.Trainer(data)
    t.load_bytes((tmp_path / "w.npz").read_bytes(), "w.npz")
    assert same_params(t.params, params)


def corrupt_files(good):
    other = io.BytesIO()
    np.savez(other, a=np.zeros(3))
    wrong_shape = io.BytesIO()
    from core import layers
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10)])
    models.save(wrong_shape, model, model.init(0))
    return {"truncated": (good[:len(good) // 2], "truncated or not a .npz"),
            "text": (b"hello, not weights", "not a .npz"),
            "foreign npz": (other.getvalue(), "not a CNN Playground weights file"),
            "28x28 model": (wrong_shape.getvalue(), "needs input")}


@pytest.mark.parametrize("case", ["truncated", "text", "foreign npz", "28x28 model"])
def test_a_bad_weights_file_is_refused_and_the_trained_model_kept(data, case):
    t = T.Trainer(data, epochs=1)
    t.start()
    t.step(3)
    t.pause()
    model, params, seen = t.model, t.params, t.images_seen
    blob, why = corrupt_files(t.save_bytes())[case]
    with pytest.raises(ValueError, match=why) as err:
        t.load_bytes(blob, "bad.npz")
    assert "bad.npz" in str(err.value) or case == "28x28 model"
    assert t.model is model and t.params is params and t.images_seen == seen and t.status == "paused"


def test_loading_while_running_is_refused(data):
    t = T.Trainer(data)
    blob = t.save_bytes()
    t.start()
    with pytest.raises(ValueError, match="pause or stop"):
        t.load_bytes(blob)
    assert t.status == "running"


# ---------------------------------------------------------------- settings and architecture

def test_an_invalid_stack_is_refused_with_the_reason_and_nothing_changes(data):
    t = T.Trainer(data)
    model, params, text = t.model, t.params, t.config["architecture"]
    with pytest.raises(ValueError,
                       match=r"line 2 \(Dense\(10\)\) cannot follow an output of shape \(None, 28, 28, 6\)"):
        t.configure(architecture="Conv2D(6, 5)\nDense(10)")
    with pytest.raises(ValueError, match=r"kernel 50x50 is larger than the input 32x32"):
        t.configure(architecture="Conv2D(6, 50)\nFlatten()\nDense(10)")
    with pytest.raises(ValueError, match=r"must give 10 class scores.*\(None, 84\)"):
        t.configure(architecture="Flatten()\nDense(84)")
    with pytest.raises(ValueError, match="unknown layer 'Lambda'"):
        t.configure(architecture="Lambda(1)")
    assert t.model is model and t.params is params and t.config["architecture"] == text


def test_editing_the_stack_updates_the_layer_table(data):
    t = T.Trainer(data)
    t.configure(architecture=TINY)
    table = t.layer_table
    assert [r["output_shape"] for r in table] == [(14, 14, 4), (784,), (10,)]
    assert [r["params"] for r in table] == [4 * 26, 0, 7850]
    t.configure(dropout=0.5)
    assert [r["kind"] for r in t.layer_table] == ["Conv2D", "Flatten", "Dropout", "Dense"]


def test_lenet_text_round_trips_to_the_lecture_model():
    model = studio_arch.parse(studio_arch.lenet5_text())
    assert model.count_params() == 61_706
    assert model.layer_table() == models.lenet5().layer_table()


@pytest.mark.parametrize("settings, why", [
    ({"learning_rate": -1}, "learning_rate must be in"), ({"learning_rate": None}, "learning_rate must be a number"),
    ({"batch_size": 0}, "batch_size"), ({"epochs": 2.5}, "epochs must be a whole number"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"), ({"loss": "hinge"}, "loss must be one of"),
    ({"train_size": 10**6}, "train_size must be in"), ({"momentum": 1.0}, "momentum"),
    ({"alpha": 0}, "alpha")])
def test_bad_settings_are_refused_by_name_and_nothing_changes(data, settings, why):
    t = T.Trainer(data)
    cfg, params = dict(t.config), t.params
    with pytest.raises(ValueError, match=why):
        t.configure(**settings)
    assert t.config == cfg and t.params is params


def test_settings_cannot_change_mid_run(data):
    t = T.Trainer(data)
    t.start()
    with pytest.raises(ValueError, match="stop training"):
        t.configure(learning_rate=0.1)
    assert t.config["learning_rate"] == T.DEFAULTS["learning_rate"]


@pytest.mark.parametrize("optimizer", T.OPTIMIZERS)
@pytest.mark.parametrize("loss", T.LOSSES)
def test_every_optimizer_and_loss_trains(data, optimizer, loss):
    t = T.Trainer(data, architecture=TINY, optimizer=optimizer, learning_rate=T.DEFAULT_LR[optimizer], loss=loss,
                  alpha=0.25, epochs=1)
    start = t.params
    t.start()
    assert t.step(3) == 3 and t.status == "running"
    assert not same_params(t.params, start)
    assert all(math.isfinite(v) for v in t.history["train"]["loss"] + [t.run["interval"]["loss"]])


def test_focal_loss_uses_gamma_and_alpha(data):
    t = T.Trainer(data, loss="focal", gamma=3.0, alpha=0.5)
    t.start()
    logits = np.random.default_rng(0).normal(size=(4, 10)).astype(np.float32)
    y = np.array([1, 2, 3, 4])
    assert t.run["loss_fn"](logits, y)[0] == pytest.approx(float(losses.focal(logits, y, 3.0, 0.5)[0]))


def test_the_imbalanced_option_keeps_a_tenth_of_the_minority_digits(data):
    t = T.Trainer(data, imbalanced=True)
    _, y = t.training_set()
    counts = np.bincount(y, minlength=10)
    assert list(counts[:5]) == [40] * 5 and list(counts[5:]) == [4] * 5
    t.configure(imbalanced=False, train_size=200)
    assert list(np.bincount(t.training_set()[1], minlength=10)) == [20] * 10


def lecun_input(digits):
    """uint8 digits (N, 28, 28) as LeNet-5 takes them, written out here without core.datasets: pixels / 255 on a
    zero 32x32 canvas, the digit at rows and columns 2..29, one channel."""
    out = np.zeros((len(digits), 32, 32, 1), np.float32)
    out[:, 2:30, 2:30, 0] = np.asarray(digits, np.float32) / 255
    return out


def test_loads_the_weights_the_jax_training_script_writes_and_reads_raw_digits_as_the_page_gives_them(data, tmp_path):
    """The JAX script's weights open in the studio, and the studio's answers for the test digits it shows (the
    page hands it the raw uint8 digits) are those of the file's model on independently prepared inputs: a wrong
    scale (/256, standardization) or padding (3 or 0 pixels, a shifted digit) in the studio would fail here."""
    pytest.importorskip("jax")
    from core.jax import train as jax_train
    assert jax_train.main(["--dataset", "synthetic", "--limit", "64", "--batch-size", "32", "--no-progress",
                           "--epochs", "1", "--out", str(tmp_path)]) == 0
    blob = (tmp_path / "weights.npz").read_bytes()
    model, params = models.load(blob)
    t = T.Trainer(data)
    t.load_bytes(blob, "weights.npz")
    assert t.model.count_params() == 61_706 and t.status == "ready"
    x = lecun_input(data["x_test"])
    want = model.apply(params, x)
    got, acts = t.predict(t.x_test[:8])                      # what the page shows for test digit i
    e = np.exp(want[:8] - want[:8].max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(acts["input"], x[:8])
    result = t.evaluate_test()                               # the confusion matrix and the mistakes shown
    np.testing.assert_array_equal(result["pred"], want.argmax(axis=1))
    assert result["accuracy"] == np.mean(want.argmax(axis=1) == data["y_test"])
