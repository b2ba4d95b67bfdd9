"""The JAX mirror of the core: the same models jitted with XLA, for full-size runs on GPU/TPU and many devices.

    import core.jax as cj
    jm = cj.compile(model)                  # see compiled.py
    jm.apply(params, x); jm.value_and_grad(params, x, y); jm.train_step(params, state, x, y, key)

Imports jax; the browser build never imports this package (core/ itself stays NumPy-only).
Modules: ops (layer math in lax), compiled (compile), parallel (data parallel over a device mesh),
zoo (VGG- and ResNet-style core models), train (the `python -m core.jax.train` script).
"""
from .compiled import Compiled, compile

__all__ = ["Compiled", "compile"]
