"""CNN Playground core: layers, models, losses and optimizers in pure Python + NumPy (runs under Pyodide)."""
from . import activations, arithmetic, conv, layers, losses, models, optimizers, pooling

__all__ = ["activations", "arithmetic", "conv", "layers", "losses", "models", "optimizers", "pooling"]
