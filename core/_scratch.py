"""Scratch memory for the large temporaries of convolution, handed back and forth instead of allocated anew.
Private to the fast convolution layouts in core/conv_fast.py (nothing else should take or give buffers).

Why: a fresh array of a few megabytes is mapped from the kernel page by page on first touch; in a LeNet-5 training
step that cost 25-40% of the time (measured, docs/benchmarks.md). A buffer returns here only when its user is
done with it (`give`), so memory still in use is never handed out twice.
"""
import numpy as np

LIMIT_BYTES = 256 << 20          # hold at most this much idle memory
_idle = {}                       # (shape, dtype) -> [arrays]
_held = 0


def take(shape, dtype):
    """An uninitialised array of this shape and dtype: an idle one if there is one, else a new one."""
    global _held
    stack = _idle.get((tuple(shape), np.dtype(dtype)))
    if stack:
        a = stack.pop()
        _held -= a.nbytes
        return a
    return np.empty(shape, dtype)


def give(*arrays):
    """Hand arrays back for reuse; the caller must not touch them afterwards."""
    global _held
    for a in arrays:
        if a is None or a.base is not None or _held + a.nbytes > LIMIT_BYTES:
            continue             # views are not ours to recycle; beyond the limit, let NumPy free it
        _idle.setdefault((a.shape, a.dtype), []).append(a)
        _held += a.nbytes


def clear():
    """Drop every idle buffer (e.g. after a batch-size change left some of the old size)."""
    global _held
    _idle.clear()
    _held = 0
