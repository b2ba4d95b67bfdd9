"""CNN Playground core: layers, models, losses and optimizers in pure Python + NumPy (runs under Pyodide)."""
