"""The bigger models (core/jax/zoo.py): plain core models the NumPy core and the JAX mirror agree on."""
import numpy as np
import pytest

import core.jax as cj
from core.jax import zoo

from test_jax_parity import assert_tree_close


@pytest.mark.parametrize("name,shape", [("vgg", (28, 28, 1)), ("resnet", (32, 32, 3))])
def test_zoo_models_match_the_core(name, shape):
    model = zoo.MODELS[name](input_shape=shape)
    assert model.output_shape == (10,)
    params = model.init(seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *shape)).astype(np.float32)
    y = np.array([3, 7])
    jm = cj.compile(model)
    np.testing.assert_allclose(np.asarray(jm.apply(params, x)), model.apply(params, x), rtol=1e-5, atol=1e-6)
    if name == "resnet":     # residual Adds and projection shortcuts: gradients through a branching graph
        want_loss, want = model.value_and_grad(params, x, y)
        got_loss, got = jm.value_and_grad(params, x, y)
        np.testing.assert_allclose(float(got_loss), want_loss, rtol=1e-5)
        assert_tree_close(got, want, rtol=1e-4)


def test_resnet_shapes_follow_the_input():
    table = {r["name"]: r for r in zoo.resnet(input_shape=(28, 28, 1)).layer_table()}
    assert table["stage1_block1_add"]["output_shape"] == (28, 28, 16)
    assert table["stage3_block1_add"]["output_shape"] == (7, 7, 64)
    assert table["global_pool"]["output_shape"] == (1, 1, 64)
    assert "stage1_block1_project" not in table and "stage2_block1_project" in table
    table = {r["name"]: r for r in zoo.vgg(input_shape=(32, 32, 3)).layer_table()}
    assert table["pool3"]["output_shape"] == (4, 4, 128)
