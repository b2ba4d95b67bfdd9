"""Models: the lecture's arithmetic, apply/fit behaviour, save/load and the errors users meet."""
import json
import math
import zipfile

import numpy as np
import pytest

from core import layers as L
from core import losses, metrics, models, optimizers, step


def test_lenet5_counts_match_the_lecture():
    model = models.lenet5()
    assert model.count_params() == 61706
    table = model.layer_table()
    assert [r["params"] for r in table] == [156, 0, 2416, 0, 48120, 0, 10164, 850]
    assert [r["output_shape"] for r in table][:5] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (1, 1, 120)]
    assert {"name", "kind", "output_shape", "params", "mults"} <= set(table[0])
    text = model.summary(print_fn=None)
    assert "61,706" in text and "C3 (Conv2D)" in text


def test_lecture_worked_examples():
    model = models.Sequential([L.Input((256, 256, 3)), L.Conv2D(64, 3, strides=2, padding="same"),
                               L.Conv2D(128, 5, strides=2, padding="same")])
    first, second = model.layer_table()
    assert first["output_shape"] == (128, 128, 64) and first["mults"] == 128 * 128 * 28 * 64
    assert second["output_shape"] == (64, 64, 128) and second["mults"] == 64 * 64 * 1601 * 128
    assert first["params"] == 64 * (3 * 3 * 3 + 1)          # k'(k h^2 + 1)
    mlp = models.Sequential([L.Input((256, 256, 3)), L.Flatten()])
    assert mlp.layer_table()[0]["output_shape"] == (196608,)


def test_apply_shapes_and_activations():
    model = models.lenet5()
    params = model.init(seed=0)
    x = np.random.default_rng(0).random((4, 32, 32, 1), dtype=np.float32)
    logits = model.apply(params, x)
    assert logits.shape == (4, 10) and logits.dtype == np.float32
    acts = model.apply(params, x, return_activations=True)
    assert list(acts) == ["input", "C1", "S2", "C3", "S4", "C5", "flatten", "F6", "OUTPUT"]
    assert acts["C3"].shape == (4, 10, 10, 16)
    np.testing.assert_array_equal(acts["OUTPUT"], logits)
    assert model.init(seed=0)["C1"]["kernel"].tolist() == params["C1"]["kernel"].tolist()
    assert model.init(seed=1)["C1"]["kernel"].tolist() != params["C1"]["kernel"].tolist()


@pytest.mark.parametrize("build,match", [
    (lambda: models.Sequential([L.Input((3, 3, 1)), L.Conv2D(2, 5, name="conv_a")]),
     r"Conv2D 'conv_a': kernel 5x5 is larger than the input 3x3 \(padding='valid'\)"),
    (lambda: L.Conv2D(4, 3, strides=0), r"strides must be a positive integer, got 0"),
    (lambda: L.Conv2D(0, 3), r"filters must be a positive integer"),
    (lambda: L.Conv2D(4, 3, padding="full"), r"padding must be 'valid', 'same' or an int"),
    (lambda: L.Dense(4, activation="swish"), r"unknown activation 'swish'"),
    (lambda: models.Sequential([L.Input((8, 8, 1)), L.Dense(3)]), r"Dense expects a flat input .* add Flatten"),
    (lambda: models.Sequential([L.Input((8, 8, 1)), L.MaxPooling2D(2), L.MaxPooling2D(2), L.MaxPooling2D(2),
                                L.MaxPooling2D(2)]), r"pool 2x2 is larger than the input 1x1"),
    (lambda: models.Sequential([L.Conv2D(2, 3)]), r"give the input shape"),
    (lambda: L.Dropout(1.0), r"rate must be in \[0, 1\)"),
])
def test_invalid_architectures_are_refused_clearly(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_wrong_input_and_labels_raise_clearly():
    model = models.lenet5()
    params = model.init()
    with pytest.raises(ValueError, match=r"expects input \(N, 32, 32, 1\), got shape \(2, 28, 28\)"):
        model.apply(params, np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"expects input \(N, 32, 32, 1\), got shape \(2, 32, 32, 3\)"):
        model.apply(params, np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"the batch is empty \(shape \(0, 32, 32, 1\)\)"):
        model.apply(params, np.zeros((0, 32, 32, 1), np.float32))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\), got values from 0 to 12"):
        model.value_and_grad(params, np.zeros((2, 32, 32, 1), np.float32), np.array([0, 12]))
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'"):
        model.value_and_grad(params, np.zeros((2, 32, 32, 1), np.float32), np.array([0, 1]), loss="hinge")


def test_functional_model_naming_and_errors():
    inp = L.Input((8, 8, 1))
    a, b = L.Conv2D(2, 3, padding="same")(inp), L.Conv2D(3, 3, padding="same")(inp)
    with pytest.raises(ValueError, match=r"Add needs two or more inputs of one shape"):
        L.Add()([a, b])
    c = L.Concatenate()([a, b])
    model = models.Model(inp, L.Dense(2)(L.Flatten()(c)))
    assert [l.name for l in model.layers] == ["conv2d", "conv2d_1", "concatenate", "flatten", "dense"]
    assert model.output_shape == (2,)
    with pytest.raises(ValueError, match="already part of a graph"):
        model.layers[0](inp)


def blobs(n=240, seed=0):
    """A separable toy task: the class is which quadrant of an 8x8 image is bright."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.random((n, 8, 8, 1)).astype(np.float32) * 0.3
    for i, c in enumerate(y):
        r, q = divmod(c, 2)
        x[i, r * 4:(r + 1) * 4, q * 4:(q + 1) * 4, 0] += 1
    return x, y


def small_cnn():
    return models.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(2),
                              L.Flatten(), L.Dense(4)])


class Recorder:
    def __init__(self):
        self.batches, self.epochs = [], []

    def on_train_batch_end(self, step, logs):
        self.batches.append(logs["loss"])

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(dict(logs))


def test_fit_learns_with_callbacks_and_validation():
    x, y = blobs()
    model = small_cnn()
    rec = Recorder()
    history = model.fit(x, y, epochs=3, batch_size=32, optimizer=optimizers.Adam(0.01),
                        validation_data=blobs(80, seed=1), callbacks=[rec])
    assert len(rec.batches) == 3 * 8 and len(rec.epochs) == 3
    assert history.history["val_accuracy"][-1] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.params is model.params
    assert model.evaluate(model.params, *blobs(80, seed=1))[1] == history.history["val_accuracy"][-1]


def test_fit_stop_training_from_a_callback():
    x, y = blobs()
    model = small_cnn()

    class StopAfterTwo:
        def on_train_batch_end(self, step, logs):
            if step == 1:
                model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=32, callbacks=[StopAfterTwo()])
    assert len(history.history["loss"]) == 1


def test_fit_nan_loss_stops_and_keeps_last_finite_params():
    x, y = blobs()
    model = small_cnn()
    snapshots = []

    class Snap:
        def on_train_batch_end(self, step, logs):
            snapshots.append(model.params)

    with pytest.raises(models.NonFiniteLossError, match=r"loss became (nan|inf) at epoch \d+, batch \d+") as err:
        model.fit(x * 1e3, y, epochs=20, batch_size=16, optimizer=optimizers.SGD(1e4), loss="mse", callbacks=[Snap()])
    good = err.value.params
    assert good is model.params
    assert all(np.isfinite(a).all() for layer in good.values() for a in layer.values())
    assert good is snapshots[-1]          # the params whose loss was the last finite one
    assert np.isfinite(model.apply(good, x[:4])).all()


def test_fit_stops_when_a_finite_loss_grows_a_thousandfold():
    """core.step's rule: Adam at lr 1000 sends the loss from ~1.5 to ~1e7 without NaN; fit stops there, restores
    the last good params (those of the batch before) and says how the loss went wrong."""
    x, y = blobs()
    model = small_cnn()
    start = model.init(seed=0)
    rec, snapshots = Recorder(), []

    class Snap:
        def on_train_batch_end(self, step, logs):
            snapshots.append(model.params)

    with pytest.raises(models.NonFiniteLossError, match=r"the loss became \S+ at epoch 1, batch \d+, more than 1000 "
                                                        r"times its value at the start of the run") as err:
        model.fit(x, y, epochs=3, batch_size=16, optimizer=optimizers.Adam(1e3), params=start,
                  callbacks=[rec, Snap()])
    grown = float(str(err.value).split("became ")[1].split()[0])
    assert math.isfinite(grown) and grown > 1000 * rec.batches[0]
    assert err.value.params is model.params is snapshots[-1]
    assert err.value.history.params is model.params
    assert len(snapshots) == 1 and model.params is start       # the first update exploded: its params stay


def test_save_load_round_trip(tmp_path):
    inp = L.Input((8, 8, 1))
    a = L.Conv2D(3, 3, padding="same", activation="relu")(inp)
    b = L.AveragePooling2D(2, strides=1, padding="same")(inp)
    x = L.Dropout(0.2)(L.Concatenate()([a, b]))
    model = models.Model(inp, L.Dense(4, activation="softmax")(L.Flatten()(x)), name="branchy")
    params = model.init(seed=3)
    path = tmp_path / "w.npz"
    models.save(path, model, params)
    loaded, lp = models.load(path)
    assert loaded.get_config() == model.get_config()
    xs = blobs(5)[0]
    np.testing.assert_array_equal(loaded.apply(lp, xs), model.apply(params, xs))
    # the same from bytes (a browser upload)
    m2, p2 = models.load(path.read_bytes())
    np.testing.assert_array_equal(m2.apply(p2, xs), model.apply(params, xs))


def test_load_rejects_bad_files(tmp_path):
    model = models.lenet5()
    params = model.init()
    good = tmp_path / "good.npz"
    models.save(good, model, params)
    raw = good.read_bytes()

    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated or not a .npz"):
        models.load(tmp_path / "trunc.npz")

    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="truncated or not a .npz"):
        models.load(tmp_path / "text.npz")

    np.savez(tmp_path / "pickled.npz", __format__=np.array(models.FORMAT), obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled objects"):
        models.load(tmp_path / "pickled.npz")

    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a CNN Playground weights file"):
        models.load(tmp_path / "foreign.npz")

    # architecture says LeNet-5 but C3's kernel has the wrong shape
    with np.load(good) as d:
        arrays = {k: d[k] for k in d.files}
    arrays["C3/kernel"] = np.zeros((3, 3, 6, 16), np.float32)
    np.savez(tmp_path / "mismatch.npz", **arrays)
    with pytest.raises(ValueError, match=r"Conv2D 'C3' kernel has shape \(3, 3, 6, 16\), expected \(5, 5, 6, 16\)"):
        models.load(tmp_path / "mismatch.npz")

    del arrays["C3/kernel"]
    arrays["C3/kernel"] = np.full((5, 5, 6, 16), np.nan, np.float32)
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ValueError, match="C3/kernel contains NaN"):
        models.load(tmp_path / "nan.npz")

    config = json.loads(str(arrays["__architecture__"]))
    config["layers"][1]["kind"] = "Conv3D"
    arrays["__architecture__"] = np.array(json.dumps(config))
    np.savez(tmp_path / "kind.npz", **arrays)
    with pytest.raises(ValueError, match="unknown layer kind 'Conv3D'"):
        models.load(tmp_path / "kind.npz")

    with zipfile.ZipFile(good) as z:
        assert all(name.endswith(".npy") for name in z.namelist())


def test_sequential_round_trips_as_sequential(tmp_path):
    model = models.lenet5()
    models.save(tmp_path / "l.npz", model, model.init())
    loaded, _ = models.load(tmp_path / "l.npz")
    assert isinstance(loaded, models.Sequential) and loaded.get_config() == model.get_config()


def test_save_refuses_params_of_another_model(tmp_path):
    with pytest.raises(ValueError, match="missing layers"):
        models.save(tmp_path / "x.npz", models.lenet5(), small_cnn().init())


def test_einsum_route_for_pyodide_gives_the_same_results(monkeypatch):
    """Under Pyodide every matrix product goes through np.einsum (no BLAS there); it must agree with BLAS."""
    from core import backend
    model = models.lenet5()
    params = {k: {w: a.astype(np.float64) for w, a in v.items()} for k, v in model.init(2).items()}
    x = np.random.default_rng(3).random((3, 32, 32, 1))
    y = np.array([1, 5, 9])
    loss_blas, grads_blas = model.value_and_grad(params, x, y)
    monkeypatch.setattr(backend, "WASM", True)
    loss_einsum, grads_einsum = model.value_and_grad(params, x, y)
    np.testing.assert_allclose(loss_einsum, loss_blas, rtol=1e-12)
    for name in grads_blas:
        for w in grads_blas[name]:
            np.testing.assert_allclose(grads_einsum[name][w], grads_blas[name][w], rtol=1e-9, atol=1e-12)


def frozen_cnn():
    return models.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu", trainable=False, name="C1"),
                              L.MaxPooling2D(2), L.Conv2D(3, 2, name="C2"), L.Flatten(),
                              L.Dense(4, trainable=False, name="D1"), L.Dense(4, name="out")])


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "rmsprop", "adam"])
def test_a_frozen_layer_gets_no_grads_no_state_and_never_moves(optimizer):
    x, y = blobs(64)
    model = frozen_cnn()
    params = model.init(seed=3)
    _, grads = model.value_and_grad(params, x[:8], y[:8])
    assert set(grads) == {"C2", "out"}                         # no grads for the frozen layers
    assert set(model.trainable_params(params)) == {"C2", "out"}
    before = {k: {w: a.copy() for w, a in v.items()} for k, v in params.items()}
    history = model.fit(x, y, epochs=2, batch_size=16, optimizer=optimizer, params=params)
    trained = history.params
    for frozen in ("C1", "D1"):
        for w in before[frozen]:
            np.testing.assert_array_equal(trained[frozen][w], before[frozen][w])
    assert not np.array_equal(trained["C2"]["kernel"], before["C2"]["kernel"])     # the rest learned
    assert not np.array_equal(trained["out"]["kernel"], before["out"]["kernel"])
    opt = optimizers.get(optimizer)
    state = opt.init(model.trainable_params(params))
    _, state = model.update(opt, grads, state, params)
    assert "C1" not in str(state) and "D1" not in str(state)   # the optimizer keeps nothing for frozen layers


def test_frozen_is_in_the_config_the_summary_and_the_weights_file(tmp_path):
    model = frozen_cnn()
    specs = {s["name"]: s["config"] for s in model.get_config()["layers"]}
    assert specs["C1"]["trainable"] is False and specs["C2"]["trainable"] is True
    text = model.summary(print_fn=None)
    frozen = 4 * (3 * 3 + 1) + 4 * (2 * 2 * 3 + 1)
    assert f"Non-trainable params: {frozen:,}" in text
    assert f"Trainable params: {model.count_params() - frozen:,}" in text
    assert "Non-trainable" not in small_cnn().summary(print_fn=None)     # unchanged for models without one
    assert [r["trainable"] for r in model.layer_table()] == [False, True, True, True, False, True]
    models.save(tmp_path / "f.npz", model, model.init(0))
    loaded, _ = models.load(tmp_path / "f.npz")
    assert loaded.get_config() == model.get_config()
    assert [l.trainable for l in loaded.layers] == [l.trainable for l in model.layers]


@pytest.mark.parametrize("value", ["False", 0, None, "yes"])
def test_trainable_and_use_bias_must_be_booleans(value):
    with pytest.raises(ValueError, match=r"Conv2D.*trainable must be True or False"):
        L.Conv2D(2, 3, trainable=value)
    with pytest.raises(ValueError, match=r"Dense.*use_bias must be True or False"):
        L.Dense(2, use_bias=value)


def squares(n=96, seed=0):
    """8x8 images with one bright 3x3 square whose brightness says its class (1: dim, 2: bright); masks (N, 8, 8)
    hold 0 for the background and the class under the square."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8, 8, 1)).astype(np.float32) * 0.1
    masks = np.zeros((n, 8, 8), np.int64)
    for i in range(n):
        r, q, c = rng.integers(0, 6), rng.integers(0, 6), rng.integers(1, 3)
        x[i, r:r + 3, q:q + 3, 0] += 0.4 * c
        masks[i, r:r + 3, q:q + 3] = c
    return x, masks


def tiny_segmenter():
    return models.Sequential([L.Input((8, 8, 1)), L.Conv2D(8, 3, padding="same", activation="relu"),
                              L.Conv2D(3, 1, name="pixels")])


def tiny_autoencoder():
    return models.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                              L.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")])


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "focal"])
def test_fit_and_evaluate_with_per_pixel_classes(loss):
    x, masks = squares()
    model = tiny_segmenter()
    history = model.fit(x, masks, epochs=12, batch_size=16, optimizer=optimizers.Adam(0.02), loss=loss,
                        validation_data=squares(32, seed=1))
    assert set(history.history) == {"loss", "pixel_accuracy", "mean_iou", "val_loss", "val_pixel_accuracy",
                                    "val_mean_iou"}
    assert history.history["val_mean_iou"][-1] > 0.9
    xv, mv = squares(32, seed=1)
    pred = model.predict(model.params, xv)
    assert pred.shape == (32, 8, 8, 3)
    loss_v, acc, iou = model.evaluate(model.params, xv, mv, loss=loss)
    assert iou == pytest.approx(metrics.iou(mv, pred, 3)[1]) == pytest.approx(history.history["val_mean_iou"][-1])
    assert acc == pytest.approx(metrics.pixel_accuracy(mv, pred))
    assert model.evaluate(model.params, xv, np.eye(3)[mv], loss=loss, return_dict=True) == pytest.approx(
        {"loss": loss_v, "pixel_accuracy": acc, "mean_iou": iou})       # one-hot masks measure the same


@pytest.mark.parametrize("loss", ["mse", "binary_crossentropy"])
def test_fit_and_evaluate_a_regression_target_measure_only_the_loss(loss):
    x, _ = squares()
    model = tiny_autoencoder()
    # binary cross-entropy takes logits, so the sigmoid is left to the loss there
    if loss == "binary_crossentropy":
        model = models.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                                   L.Conv2DTranspose(1, 3, strides=2, padding="same")])
    history = model.fit(x, x, epochs=4, batch_size=16, loss=loss, optimizer=optimizers.Adam(0.01),
                        validation_data=(x[:32], x[:32]))
    assert set(history.history) == {"loss", "val_loss"}              # no accuracy of a regression
    assert history.history["loss"][-1] < history.history["loss"][0]
    value = model.evaluate(model.params, x[:32], x[:32], loss=loss)
    assert isinstance(value, float) and value == pytest.approx(history.history["val_loss"][-1])
    assert model.evaluate(model.params, x[:32], x[:32], loss=loss, return_dict=True) == {"loss": value}


def test_train_step_reports_what_it_measured():
    x, masks = squares(8)
    rng = np.random.default_rng(0)
    for model, y, keys in [(tiny_segmenter(), masks, {"correct", "predictions", "confusion"}),
                           (tiny_autoencoder(), x, set()),
                           (small_cnn(), np.arange(8) % 4, {"correct", "predictions"})]:
        opt = optimizers.SGD(0.1)
        params = model.init(0)
        _, _, batch = step.train_step(model, opt, losses.get("mse"), params, opt.init(params), x, y, rng)
        assert set(batch) == {"loss", "count"} | keys and batch["count"] == 8
        if "confusion" in keys:
            assert batch["predictions"] == 8 * 8 * 8 and batch["confusion"].sum() == 8 * 8 * 8


def test_autoencoder_splits_at_its_code_and_learns_to_reconstruct():
    model = models.autoencoder(code_size=6)
    assert model.input_shape == model.output_shape == (28, 28, 1)
    assert [l.name for l in model.layers if l.kind in ("UpSampling2D", "Conv2DTranspose")] == ["dec_up1", "output"]
    params = model.init(seed=1)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    encoder, decoder = models.encoder_of(model, "code"), models.decoder_of(model, "code")
    code = encoder.apply(params, x)
    assert code.shape == (4, 6) and decoder.input_shape == (6,) and decoder.nodes[0].layer.name == "code"
    np.testing.assert_array_equal(decoder.apply(params, code), model.apply(params, x))   # the same weights
    moved = decoder.apply(params, code + np.eye(6, dtype=np.float32)[:4])                # a point moved in code space
    assert moved.shape == (4, 28, 28, 1) and 0 <= moved.min() and moved.max() <= 1        # sigmoid pixels
    assert not np.allclose(moved, model.apply(params, x))
    xs, _ = squares(48)
    small = models.autoencoder(input_shape=(8, 8, 1), code_size=4)
    history = small.fit(xs, xs, epochs=5, batch_size=8, loss="mse", optimizer=optimizers.Adam(0.01))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_segmenter_gives_a_class_per_pixel_and_learns_masks():
    model = models.segmenter()
    assert model.output_shape == (28, 28, 11)
    assert models.segmenter(input_shape=(56, 56, 1)).output_shape == (56, 56, 11)
    x, masks = squares(96)
    small = models.segmenter(input_shape=(8, 8, 1), classes=3)
    history = small.fit(x, masks, epochs=20, batch_size=16, optimizer=optimizers.Adam(0.03))
    assert history.history["mean_iou"][-1] > 0.8 and history.history["loss"][-1] < history.history["loss"][0]
    with pytest.raises(ValueError, match="multiples of 4"):
        models.segmenter(input_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="multiples of 4"):
        models.autoencoder(input_shape=(30, 28, 1))


def test_decoder_of_refuses_what_the_code_alone_does_not_decide(tmp_path):
    seg = models.segmenter()
    with pytest.raises(ValueError, match="layer 'join' .* reads enc1 besides the code 'context'"):
        models.decoder_of(seg, "context")
    with pytest.raises(ValueError, match="has no layer named 'kode'"):
        models.decoder_of(models.autoencoder(), "kode")
    with pytest.raises(ValueError, match="'output' is the output"):
        models.decoder_of(models.autoencoder(), "output")
    for model in (models.autoencoder(), seg):      # both round-trip through the weights file
        params = model.init(seed=2)
        models.save(tmp_path / f"{model.name}.npz", model, params)
        loaded, loaded_params = models.load(tmp_path / f"{model.name}.npz")
        x = np.random.default_rng(1).random((2, 28, 28, 1)).astype(np.float32)
        np.testing.assert_array_equal(loaded.apply(loaded_params, x), model.apply(params, x))


def test_reshape_layer():
    layer = L.Reshape((2, -1, 3))
    assert layer.build((4, 6)) == (2, 4, 3)
    x = np.arange(48.0).reshape(2, 4, 6)
    out, cache = layer.forward({}, x)
    np.testing.assert_array_equal(out.reshape(2, 24), x.reshape(2, 24))
    np.testing.assert_array_equal(layer.backward({}, out, cache)[0], x)
    with pytest.raises(ValueError, match="cannot reshape"):
        L.Reshape((5,)).build((4, 6))
    with pytest.raises(ValueError, match="target_shape must be a tuple of positive ints"):
        L.Reshape((-1, -1))
