"""Issue 11's corpus for the core model internals (layers, models, metrics, regularizers, segmentation data, the JAX
mirror): each bad input raises ValueError whose message names the input, and leaves state as it was (the model's
params, the params passed in). tests/test_bad_inputs.py holds the CLIs' and the files' cases."""
import copy

import numpy as np
import pytest

from core import layers as L
from core import metrics, models, regularizers, segmentation

# -- settings that are not what they claim to be: construction fails, nothing is built ---------------------------
CONSTRUCTION = [
    ("dropout rate as text", lambda: L.Dropout("0.5"), r"Dropout: rate must be in \[0, 1\).*got '0.5'"),
    ("dropout rate a bool", lambda: L.Dropout(True), r"Dropout: rate .* got True"),
    ("dropout rate NaN", lambda: L.Dropout(float("nan")), r"Dropout: rate .* got nan"),
    ("dropout rate 1", lambda: L.Dropout(1.0), r"Dropout: rate must be in \[0, 1\)"),
    ("filters as text", lambda: L.Conv2D("8", 3), r"Conv2D: filters must be a positive integer, got '8'"),
    ("kernel size as text", lambda: L.Conv2D(8, "3"), r"Conv2D: kernel_size must be .*'3'"),
    ("kernel size of three", lambda: L.Conv2D(8, (3, 3, 3)), r"Conv2D: kernel_size must be an int or a pair"),
    ("fractional stride", lambda: L.Conv2D(8, 3, strides=1.5), r"Conv2D: strides must be a positive integer"),
    ("unknown padding", lambda: L.Conv2D(8, 3, padding="full"), r"Conv2D: padding must be 'valid', 'same'"),
    ("unknown activation", lambda: L.Conv2D(8, 3, activation="relu6"), r"Conv2D: unknown activation 'relu6'"),
    ("use_bias as text", lambda: L.Conv2D(8, 3, use_bias="False"), r"Conv2D: use_bias must be True or False"),
    ("float units", lambda: L.Dense(3.0), r"Dense: units must be a positive integer, got 3.0"),
    ("zero units", lambda: L.Dense(0), r"Dense: units must be a positive integer, got 0"),
    ("trainable as text", lambda: L.Dense(4, trainable="no"), r"Dense: trainable must be True or False"),
    ("pool size as text", lambda: L.MaxPooling2D("2"), r"MaxPooling2D: pool_size must be"),
    ("pooling with int padding", lambda: L.AveragePooling2D(2, padding=1), r"AveragePooling2D: pooling padding"),
    ("input shape as text", lambda: L.Input(("28", 28, 1)), r"Input: shape must be a tuple of positive ints"),
    ("fractional input shape", lambda: L.Input((28.5, 28, 1)), r"Input: shape .* got \(28.5, 28, 1\)"),
    ("input shape a number", lambda: L.Input(5), r"Input: shape must be a tuple .* got 5"),
    ("a name that is a number", lambda: L.Conv2D(8, 3, name=5), r"Conv2D: name must be a non-empty string"),
    ("a name with a slash", lambda: L.Conv2D(8, 3, name="a/b"), r"Conv2D: name .* without '/', got 'a/b'"),
    ("unknown activation layer", lambda: L.Activation("swish"), r"Activation: unknown activation 'swish'"),
    ("upsampling size as text", lambda: L.UpSampling2D("2"), r"UpSampling2D: size must be"),
    ("transposed conv stride 0", lambda: L.Conv2DTranspose(4, 3, strides=0), r"Conv2DTranspose: strides must be"),
    ("reshape target as text", lambda: L.Reshape("7,7"), r"Reshape: target_shape must be a tuple"),
    ("regularizer a number", lambda: L.Dense(3, kernel_regularizer=0.01), r"Dense: kernel_regularizer must be"),
    ("l2 as text", lambda: regularizers.L2("0.1"), r"l2 must be a finite number >= 0, got '0.1'"),
    ("lenet5 unknown pooling", lambda: models.lenet5(pooling="x"), r"lenet5: pooling must be 'max' or 'average'"),
    ("lenet5 dropout as text", lambda: models.lenet5(dropout="0.5"), r"Dropout 'dropout': rate .* got '0.5'"),
    ("lenet5 no classes", lambda: models.lenet5(classes=0), r"Dense 'OUTPUT': units must be a positive integer"),
    ("autoencoder code of 0", lambda: models.autoencoder(code_size=0), r"autoencoder: code_size must be"),
    ("segmenter two widths", lambda: models.segmenter(widths=(8, 16)), r"segmenter: widths must be 3 positive"),
    ("model name a number", lambda: models.Sequential([L.Input((4,)), L.Dense(2)], name=3),
     r"Model: name must be a non-empty string"),
    ("segmentation n of -1", lambda: segmentation.pairs(np.zeros((3, 28, 28), np.uint8), np.arange(3), n=-1),
     r"segmentation.pairs: n must be a positive int"),
]


@pytest.mark.parametrize("make,match", [c[1:] for c in CONSTRUCTION], ids=[c[0] for c in CONSTRUCTION])
def test_bad_settings_are_refused_when_built(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- graphs that cannot run ----------------------------------------------------------------------------------------

def test_a_second_input_that_the_output_reads_is_refused_at_build():
    a, b = L.Input((4,), name="a"), L.Input((4,), name="b")
    out = L.Add(name="sum")([L.Dense(2, name="da")(a), L.Dense(2, name="db")(b)])
    with pytest.raises(ValueError, match=r"Model: the outputs also read Input 'b' besides the given inputs"):
        models.Model(a, out)          # it used to build, then fail with an IndexError in the forward pass


def test_outputs_that_are_the_input_or_from_another_input_are_refused():
    a = L.Input((4,), name="a")
    with pytest.raises(ValueError, match="Model: outputs are the inputs themselves"):
        models.Model(a, a)
    other = L.Dense(2)(L.Input((4,), name="other"))
    with pytest.raises(ValueError, match="Model: outputs are not computed from the given inputs"):
        models.Model(a, other)


def test_decoder_of_an_unknown_layer_names_it():
    with pytest.raises(ValueError, match=r"model 'autoencoder' has no layer named 'nope'"):
        models.decoder_of(models.autoencoder(), "nope")


# -- calls with bad arguments: the model's params and the caller's params stay as they were ------------------------

def small_model():
    return models.Sequential([L.Input((8, 8, 1)), L.Conv2D(3, 3, activation="relu", name="conv"),
                              L.MaxPooling2D(2, name="pool"), L.Flatten(name="flat"), L.Dense(4, name="out")])


RNG = np.random.default_rng(0)
X = RNG.random((12, 8, 8, 1)).astype(np.float32)
Y = np.arange(12) % 4


def missing(params, name):
    return {k: v for k, v in params.items() if k != name}


CALLS = [
    ("predict on an empty batch", lambda m, p: m.predict(p, X[:0]), r"predict: x is empty \(shape \(0, 8, 8, 1\)\)"),
    ("evaluate on an empty batch", lambda m, p: m.evaluate(p, X[:0], Y[:0]), r"evaluate: x is empty"),
    ("predict batch_size 0", lambda m, p: m.predict(p, X, batch_size=0), r"predict: batch_size must be a positive"),
    ("evaluate batch_size -1", lambda m, p: m.evaluate(p, X, Y, batch_size=-1), r"evaluate: batch_size must be"),
    ("evaluate with fewer labels", lambda m, p: m.evaluate(p, X, Y[:5]), r"evaluate: 12 inputs but 5 labels"),
    ("evaluate string labels", lambda m, p: m.evaluate(p, X, Y.astype(str)),
     r"evaluate: labels y must be numbers .* dtype <U"),
    ("fit batch_size 0", lambda m, p: m.fit(X, Y, batch_size=0), r"fit: batch_size must be a positive int, got 0"),
    ("fit batch_size as text", lambda m, p: m.fit(X, Y, batch_size="32"), r"fit: batch_size must be .* got '32'"),
    ("fit epochs -1", lambda m, p: m.fit(X, Y, epochs=-1), r"fit: epochs must be a positive int, got -1"),
    ("fit epochs 0", lambda m, p: m.fit(X, Y, epochs=0), r"fit: epochs must be a positive int, got 0"),
    ("fit epochs 1.5", lambda m, p: m.fit(X, Y, epochs=1.5), r"fit: epochs must be a positive int, got 1.5"),
    ("fit seed as text", lambda m, p: m.fit(X, Y, seed="a"), r"fit: seed must be a non-negative int, got 'a'"),
    ("fit string labels", lambda m, p: m.fit(X, np.array(list("abcdabcdabcd"))),
     r"fit: labels y must be numbers .* dtype <U1, e.g. np.str_\('a'\)|fit: labels y must be numbers .*'a'"),
    ("fit labels of another shape", lambda m, p: m.fit(X, np.zeros((12, 3))),
     r"fit: labels y of shape \(12, 3\) do not fit outputs \(N, 4\)"),
    ("fit more labels than inputs", lambda m, p: m.fit(X, np.arange(13) % 4), r"fit: 12 inputs but 13 labels"),
    ("fit string pixels", lambda m, p: m.fit(X.astype(str), Y), r"the input must be numbers .* dtype <U"),
    ("fit images of another size", lambda m, p: m.fit(X[:, :6], Y), r"expects input \(N, 8, 8, 1\), got shape"),
    ("fit half a validation pair", lambda m, p: m.fit(X, Y, validation_data=(X,)),
     r"fit: validation_data must be a pair \(x, y\)"),
    ("fit validation labels short", lambda m, p: m.fit(X, Y, validation_data=(X, Y[:3])),
     r"fit: validation_data: 12 inputs but 3 labels"),
    ("fit fractional labels", lambda m, p: m.fit(X, Y + 0.5),
     r"labels must be whole class ids in \[0, 4\), got \d.5"),
    ("fit a label out of range in a later batch", lambda m, p: m.fit(X, np.r_[Y[:-1], 7], batch_size=4,
                                                                       shuffle=False),
     r"labels must be in \[0, 4\), got values from \d+ to 7"),
    ("fit an all-zero one-hot row", lambda m, p: m.fit(X, np.r_[np.eye(4)[Y[:-1]], np.zeros((1, 4))], batch_size=4,
                                                       shuffle=False),
     r"one-hot labels .* have an all-zero row"),
    ("fit params missing a layer", lambda m, p: m.fit(X, Y, params=missing(p, "conv")),
     r"params do not match model 'sequential': missing layers \['conv'\]"),
    ("apply params missing a layer", lambda m, p: m.apply(missing(p, "out"), X),
     r"params do not match model 'sequential': missing layers \['out'\]"),
    ("apply params None", lambda m, p: m.apply(None, X), r"params must be a dict .* got NoneType"),
    ("apply a layer's params not a dict", lambda m, p: m.apply({**p, "out": p["out"]["kernel"]}, X),
     r"params must be a dict .* holding a non-dict"),
    ("apply text weights", lambda m, p: m.apply({**p, "out": {**p["out"], "bias": np.array(list("abcd"))}}, X),
     r"params: Dense 'out' bias must be an array of numbers, got dtype <U1"),
    ("value_and_grad a kernel of another shape",
     lambda m, p: m.value_and_grad({**p, "conv": {**p["conv"], "kernel": np.zeros((5, 5, 1, 3), np.float32)}}, X, Y),
     r"params: Conv2D 'conv' kernel has shape \(5, 5, 1, 3\), expected \(3, 3, 1, 3\)"),
    ("value_and_grad an unknown loss", lambda m, p: m.value_and_grad(p, X, Y, loss="hinge"), r"unknown loss 'hinge'"),
    ("fit an unknown optimizer", lambda m, p: m.fit(X, Y, optimizer="adamw2"), r"unknown optimizer 'adamw2'"),
]


@pytest.mark.parametrize("call,match", [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_bad_calls_are_refused_and_change_nothing(call, match):
    model = small_model()
    model.params = params = model.init(seed=1)
    before = copy.deepcopy(params)
    with pytest.raises(ValueError, match=match):
        call(model, params)
    assert model.params is params                      # still the same (last good) params
    for name, weights in before.items():
        for w, a in weights.items():
            np.testing.assert_array_equal(params[name][w], a)


def test_a_failed_fit_of_a_fresh_model_leaves_it_without_params():
    model = small_model()
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        model.fit(X, np.r_[Y[:-1], 9], batch_size=4, shuffle=False)
    assert model.params is None


# -- metrics and the JAX mirror ------------------------------------------------------------------------------------

def test_iou_of_masks_that_do_not_fit_the_predictions():
    with pytest.raises(ValueError, match=r"true masks of shape \(2, 4, 4\) do not fit predictions of shape"):
        metrics.iou(np.zeros((2, 4, 4), int), np.zeros((2, 4, 3), int), 3)


def test_the_jax_mirror_refuses_the_same_inputs_before_tracing():
    import core.jax as cj
    model = small_model()
    params = model.init(seed=1)
    before = copy.deepcopy(params)
    jm = cj.compile(model)
    cases = [(lambda: jm.train_epoch(params, jm.init_optimizer(params), X, Y, None, batch_size="8"),
              r"train_epoch: batch_size must be between 1 and the 12 examples, got '8'"),
             (lambda: jm.evaluate(params, X[:0], Y[:0]), r"evaluate got an empty batch: x of shape \(0, 8, 8, 1\)"),
             (lambda: jm.evaluate(params, X, Y, batch_size=0), r"evaluate: batch_size must be a positive int"),
             (lambda: jm.value_and_grad(missing(params, "conv"), X, Y), r"missing layers \['conv'\]"),
             (lambda: jm.apply(None, X), r"params must be a dict .* got NoneType"),
             (lambda: jm.value_and_grad(params, X, np.zeros((12, 2, 2))), r"labels must be \(N,\) class ids or "
                                                                         r"\(N, 4\) .* got shape \(12, 2, 2\)")]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    for name, weights in before.items():
        for w, a in weights.items():
            np.testing.assert_array_equal(params[name][w], a)
