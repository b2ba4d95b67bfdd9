"""One training step, and the one rule for when training has diverged. Model.fit, the studio's Trainer and the
CLIs all train with these.

    params, opt_state, batch = train_step(model, optimizer, loss_fn, params, opt_state, x, y, rng, limit)
    limit = loss_limit(batch["loss"], limit)      # the run's first loss sets the limit; later ones keep it
    # batch = {"loss": mean loss (float), "count": images (int), and metrics.batch_counts: for classes "correct"
    #          (how many predicted right) and "predictions"; per pixel also "confusion"; nothing more for regression}

A step is value_and_grad (forward, loss, backward) -> the divergence check -> the optimizer's update -> the
batch's metrics. It raises Diverged before the backward pass when the loss breaks the rule, leaving the
caller's params as they were (they are the last good ones: their loss was the last acceptable one). A gradient
with NaN/inf (a finite loss can still overflow on the way back) raises Diverged too, naming the weight, before
it reaches the params or the optimizer's state.

The rule: a loss that is NaN/inf, or more than DIVERGE_FACTOR times its value at the start of the run (at least
1.0), counts as diverged. Growth matters as much as NaN: with the stable log-softmax, Adam at lr 10 sends
LeNet-5's loss to ~1e11 (and MSE's to ~1e24) without ever overflowing. The JAX trainer's jitted steps cannot call
this code, so it applies `check_losses` to each epoch's losses on the host: the same rule and the same message.
"""
import math

import numpy as np

from . import metrics

DIVERGE_FACTOR = 1000.0


class Diverged(FloatingPointError):
    """The loss broke the divergence rule, or a gradient was not finite. `.loss` is the batch's loss; `.limit` the
    run's limit (None for the first); `.gradient` None, or the 'layer/weight' whose gradient held NaN/inf."""

    def __init__(self, loss, limit, gradient=None):
        self.loss, self.limit, self.gradient = loss, limit, gradient
        super().__init__(self.message("this batch"))

    def message(self, where):
        """diverged_message for this failure at `where` ('epoch 2, batch 7')."""
        return diverged_message(self.loss, where, self.gradient)


def loss_limit(loss, limit=None):
    """The run's divergence limit: `limit` once set, else DIVERGE_FACTOR times this (first) loss, at least 1.0."""
    return limit if limit is not None else DIVERGE_FACTOR * max(float(loss), 1.0)


def diverged(loss, limit=None):
    """The rule: True if loss is NaN/inf or above limit (None: the run's first loss, only NaN/inf count)."""
    return not math.isfinite(loss) or (limit is not None and loss > limit)


def check_losses(losses, limit=None):
    """(index of the first diverged loss or None, the run's limit) for a sequence of losses in the order taken.

    limit None: the first of them is the run's first loss and sets it."""
    for i, value in enumerate(np.asarray(losses, dtype=np.float64).ravel().tolist()):
        if diverged(value, limit):
            return i, limit
        limit = loss_limit(value, limit)
    return None, limit


def diverged_message(loss, where, gradient=None):
    """The one message every trainer gives: 'training stopped: the loss became ... at <where> (...)'; with
    gradient='C1/kernel', that this weight's gradient held NaN/inf (the loss was `loss`)."""
    cause = "(often a learning rate that is too high)"
    if gradient is not None:
        return (f"training stopped: the gradient of {gradient} became NaN/inf at {where} (the loss was {loss:.4g}) "
                f"{cause}")
    grown = (f", more than {DIVERGE_FACTOR:g} times its value at the start of the run"
             if math.isfinite(loss) else "")
    return f"training stopped: the loss became {loss:.4g} at {where}{grown} {cause}"


def first_nonfinite(tree):
    """'layer/weight' of the first array of a params-shaped tree holding NaN/inf, or None if all are finite."""
    for layer, weights in tree.items():
        for w, a in weights.items():
            if not np.isfinite(a).all():
                return f"{layer}/{w}"
    return None


def all_finite(params):
    """True if every array of a params tree is free of NaN/inf (a last update is only good once shown so)."""
    return first_nonfinite(params) is None


def train_step(model, optimizer, loss_fn, params, opt_state, x, y, rng=None, limit=None):
    """One optimizer step on the batch x (N, *input_shape), y (N,) ints or (N, K) one-hot (or masks, or regression
    targets of the outputs' shape: see metrics.batch_counts), dropout on.

    loss_fn: logits, y -> (mean loss, dloss/dlogits), as losses.get returns. Returns (new params, new optimizer
    state, {"loss", "count", **metrics.batch_counts(...)}). Raises Diverged (nothing computed past the loss) if the
    loss breaks the rule against `limit`, or (before the update) if a gradient holds NaN/inf. Nothing is changed in
    place: params and opt_state are new trees.
    """
    # A diverging run overflows before its loss turns NaN or grows past the limit; the check says so plainly.
    with np.errstate(all="ignore"):
        outs, caches = model.forward(params, x, True, rng)
        value, dout = model.loss(params, outs[-1], y, loss_fn)    # with the layers' kernel_regularizer penalties
        value = float(value)
        if diverged(value, limit):
            raise Diverged(value, limit)
        grads = model.backward(params, dout, caches)
        bad = first_nonfinite(grads)
        if bad is not None:
            raise Diverged(value, limit, gradient=bad)
        params, opt_state = model.update(optimizer, grads, opt_state, params)     # frozen layers stay as they are
    return params, opt_state, {"loss": value, "count": len(outs[-1]), **metrics.batch_counts(y, outs[-1])}
