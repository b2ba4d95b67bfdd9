"""Train a model on MNIST or Fashion-MNIST from the command line and save its weights.

    python -m core.train --model lenet5 --dataset mnist --epochs 1 --batch-size 64 --optimizer adam \
        --lr 1e-3 --out weights.npz [--loss categorical_crossentropy|mse|focal] [--seed 0] [--limit N] \
        [--lr-schedule cosine|constant] [--weight-decay WD] [--no-standardize]
    python -m core.train --model autoencoder|segmenter ...

Reads top to bottom like nanoGPT's train.py: options, data, model, training loop (model.fit with a tqdm
progress bar fed by a callback), per-epoch test metrics, save, the final test metric. The file it writes
opens in the playground with core.models.load and takes the same inputs as everything else there:
pixels in [0, 1] (LeNet-5's padded to 32x32 as pad_to_32 does). --model autoencoder (digits -> the same
digits: reconstruction MSE) and --model segmenter (a class per pixel: pixel accuracy, mean IoU) train the
models core.jax.train does, on the same examples (core/cli.py), so their files are interchangeable.

Training sees standardized pixels, (x - mean) / std with the training set's statistics: a better-conditioned
problem (LeNet-5, Adam 1e-3, batch 64, MNIST, seed 0: 98.2% test accuracy after one epoch instead of 97.3%).
The first layer is linear, so on saving the standardization is folded into its weights
(`cli.fold_standardization`, shared with core.jax.train) and the file computes exactly the same function on
plain [0, 1] pixels. --no-standardize trains on [0, 1].

--out is checked before any data is read: its folder must exist and be writable. The file is written exactly
where --out says (no suffix added; `models.load` reads it back), or as weights.npz inside a folder given as --out
(an existing folder, or a name ending in '/'); the path printed is the path written. It is written atomically,
so an interrupted or failed save never leaves half a file nor costs the good file that was there.

The learning rate follows a cosine from --lr down to --lr / 10 over the whole run, as nanoGPT's does
(optimizers.cosine_decay); --lr-schedule constant keeps it fixed, as Keras' fit does. Both together, after 3
epochs: 98.95% test accuracy where [0, 1] pixels at a constant rate reach 98.7% (measured 2026-11-28,
benchmarks/README.md).

A loss that diverges (core.step's rule: NaN/inf, or 1000 times the run's first, or a NaN/inf gradient) stops the
run with exit status 1 and core's message. --out is left as it was (a good file there is never replaced by a
diverged run): the last good params go beside it, to OUT.last_good.npz (`cli.last_good_path`), and the message
says so. Exit status: 0 trained and saved, 1 data missing/damaged, diverged or not writable, 2 bad options.

This is a CLI, never imported by the browser build: it is the only core module that imports tqdm.
"""
import argparse
import math
import sys
import time

import numpy as np
from tqdm import tqdm

from . import cli, datasets, losses, models, optimizers

DATASETS = {"mnist": datasets.load_mnist, "fashion_mnist": datasets.load_fashion_mnist}


# ---------------------------------------------------------------- options

def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="lenet5", choices=cli.MODELS,
                   help="lenet5: digits -> 10 classes; autoencoder: digits -> the same digits (reconstruction MSE); "
                        "segmenter: a class per pixel (pixel accuracy, mean IoU)")
    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    p.add_argument("--epochs", type=cli.positive_int, default=1)
    p.add_argument("--batch-size", type=cli.positive_int, default=64)
    p.add_argument("--optimizer", default="adam", choices=list(optimizers.NAMES),
                   help="momentum and nesterov are SGD with momentum 0.9")
    p.add_argument("--lr", type=cli.positive_float, default=None,
                   help="learning rate (default: the optimizer's Keras default)")
    p.add_argument("--lr-schedule", default="cosine", choices=("cosine", "constant"),
                   help="cosine: decay from --lr to --lr/10 over the run (default); constant: keep --lr")
    p.add_argument("--weight-decay", type=cli.nonnegative_float, default=None,
                   help="decoupled weight decay (Keras 3's weight_decay): each step, w -= lr * WD * w")
    p.add_argument("--loss", default=None, choices=list(losses.NAMES),
                   help="default: categorical_crossentropy (lenet5, segmenter), mse (autoencoder)")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the shuffling")
    p.add_argument("--limit", type=cli.positive_int, default=None,
                   help="a quick run: class-balanced subsets of N training and (at most) N test examples")
    p.add_argument("--no-standardize", dest="standardize", action="store_false",
                   help="train on [0, 1] pixels instead of standardized ones")
    p.add_argument("--out", default="weights.npz",
                   help="the weights file to write, exactly this path; a folder (or a name ending in /) gets "
                        "weights.npz inside it")
    args = p.parse_args(argv)
    # Fail now, not after an hour of training, if the weights cannot be written there.
    args.out = cli.weights_path(args.out)
    try:
        cli.check_out(args.out)
    except ValueError as e:
        p.error(str(e))
    if args.weight_decay:
        try:        # the optimizer's own check (learning rate x weight decay < 1), before any data is read
            optimizers.get(args.optimizer, weight_decay=args.weight_decay,
                           **({"learning_rate": args.lr} if args.lr else {}))
        except ValueError as e:
            p.error(f"--weight-decay {args.weight_decay:g}: {e}")
    return args


# ---------------------------------------------------------------- progress

class ProgressBar:
    """A model.fit callback: one tqdm bar per epoch counting images, with the running loss beside it."""

    def __init__(self, epochs, total):
        self.epochs, self.total = epochs, total
        self.epoch, self.bar, self.seen = 0, None, 0

    def on_train_batch_end(self, step, logs):
        if self.bar is None:
            self.bar = tqdm(total=self.total, unit="img", desc=f"epoch {self.epoch + 1}/{self.epochs}",
                            dynamic_ncols=True, file=sys.stderr)
            self.seen = 0
        self.bar.update(logs["seen"] - self.seen)
        self.seen = logs["seen"]
        self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        self.close()
        self.epoch = epoch + 1
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        test = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        print(f"epoch {epoch + 1}/{self.epochs}: {cli.describe(train, 'train ')}, {cli.describe(test, 'test ')}",
              flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ---------------------------------------------------------------- the run

def main(argv=None):
    """Run the CLI; returns the process exit status (0 trained and saved, 1 data missing or the loss diverged)."""
    args = parse_args(argv)

    # data: uint8 28x28 digits -> the model's inputs in [0, 1] and its targets (cli.examples)
    try:
        (x_train, y_train), (x_test, y_test) = DATASETS[args.dataset]()
    except (FileNotFoundError, ValueError) as e:      # ValueError: a damaged cache (the message says to re-fetch)
        print(f"error: {args.dataset} is not available: {e}", file=sys.stderr)
        return 1
    if args.limit is not None:
        if args.limit > len(y_train):
            print(f"error: --limit {args.limit} is more than the {len(y_train)} training examples", file=sys.stderr)
            return 1
        x_train, y_train = datasets.class_balanced_subset(x_train, y_train, args.limit, seed=args.seed)
        if args.limit < len(y_test):
            x_test, y_test = datasets.class_balanced_subset(x_test, y_test, args.limit, seed=args.seed)
    (x_train, y_train), (x_test, y_test) = (cli.examples(args.model, x_train, y_train),
                                            cli.examples(args.model, x_test, y_test))
    print(f"{args.dataset}: {len(x_train)} training and {len(x_test)} test images {x_train.shape[1:]}")
    raw_test = x_test
    model = cli.build_model(args.model)
    loss = args.loss or cli.DEFAULT_LOSS[args.model]
    # Standardized pixels when the first layer can take the standardization back on saving (cli.can_fold); the
    # targets stay as they are (the autoencoder's are the plain images).
    standardize = args.standardize and cli.can_fold(model)
    mean, std = (float(x_train.mean()), float(x_train.std())) if standardize else (0.0, 1.0)
    x_train, x_test = (x_train - np.float32(mean)) / np.float32(std), (x_test - np.float32(mean)) / np.float32(std)

    def saved(params):      # what the file holds: params for plain [0, 1] pixels
        return cli.fold_standardization(model, params, mean, std) if standardize else params

    # model and optimizer
    params = model.init(seed=args.seed)
    try:                    # a loss that does not fit the model's targets, said now rather than from inside fit
        model.evaluate(params, x_train[:2], y_train[:2], loss=loss)
    except ValueError as e:
        print(f"error: --loss {loss} does not fit --model {args.model}: {e}", file=sys.stderr)
        return 2
    peak = args.lr if args.lr is not None else optimizers.get(args.optimizer).learning_rate
    steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    if args.lr_schedule == "cosine":
        rate = optimizers.cosine_decay(peak, steps)
        schedule = f"{peak:g}, cosine decay to {rate.floor:g} over {steps} steps"
    else:
        rate, schedule = peak, f"{peak:g}"
    optimizer = optimizers.get(args.optimizer, learning_rate=rate,
                               **({"weight_decay": args.weight_decay} if args.weight_decay else {}))
    if standardize:
        print(f"training on standardized pixels (x - {mean:.4f}) / {std:.4f}, folded into the first layer on saving")
    elif args.standardize:
        print(f"training on [0, 1] pixels: {model.layers[0].kind} '{model.layers[0].name}' pads its input, so no "
              f"standardization could be folded into it")
    decay = f", weight decay {args.weight_decay:g}" if args.weight_decay else ""
    print(f"{args.model}: {model.count_params():,} weights; {args.optimizer} (learning rate {schedule}{decay}), "
          f"{loss} loss, batch size {args.batch_size}, {args.epochs} epoch(s)")

    # train
    progress = ProgressBar(args.epochs, len(x_train))
    start = time.perf_counter()
    try:
        # A diverging run overflows before its loss breaks the divergence rule; fit says so plainly, so no warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=optimizer,
                                loss=loss, validation_data=(x_test, y_test), callbacks=[progress],
                                params=params, seed=args.seed)
    except models.NonFiniteLossError as e:
        progress.close()
        print(f"error: {e}", file=sys.stderr)
        # --out keeps whatever good file it holds; the last good params go beside it
        kept = f"{args.out} was left as it was" if args.out.exists() else f"nothing was written to {args.out}"
        try:
            written = models.save(cli.last_good_path(args.out), model, saved(e.params))
        except ValueError as save_error:
            print(f"error: {save_error}; {kept}", file=sys.stderr)
            return 1
        print(f"saved the last good parameters to {written}; {kept}; try a smaller --lr", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start

    # save and report: what the saved weights score on plain [0, 1] inputs, as the playground will use them
    params = saved(history.params)
    try:
        written = models.save(args.out, model, params)
    except ValueError as e:          # the folder became unwritable or the disk filled during the run
        print(f"error: {e}", file=sys.stderr)
        return 1
    result = model.evaluate(params, raw_test, y_test, loss=loss, return_dict=True)
    print(f"trained in {seconds:.1f} s ({args.epochs * len(x_train) / seconds:,.0f} images/s); "
          f"saved {written}")
    print(cli.headline(args.model, loss, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
