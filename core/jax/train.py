"""Full-size training with the JAX mirror; the weights it writes open in the playground.

    python -m core.jax.train --model lenet5 --dataset mnist --epochs 10 --batch-size 128 --optimizer adam \
        --lr 1e-3 --out run/
    python -m core.jax.train ... --out run/ --resume      # continue from run/checkpoint.npz

What happens, top to bottom:
0. --out is made (a folder) and checked writable before any data is read; a file there is an error.
1. The data set goes onto the device(s) once (float32; 28x28 padded with 0 to 32x32 for LeNet-5), standardized
   with MNIST's mean and std when the first layer can take it back (a 'valid' Conv2D or a Dense, as LeNet-5's C1):
   weights.npz then holds the standardization folded into that layer (core/cli.py, as `python -m core.train`
   does), so it takes the plain [0, 1] pixels the playground feeds and scores there what it scored here. The
   zoo's models start with a 'same' convolution, which cannot fold exactly: they train on [0, 1] pixels.
2. Each epoch is one jitted call: shuffle on the device, lax.scan one optimizer step per batch (compiled.py).
   On a CPU backend the default (--loop auto) runs the same steps as a loop of jitted steps instead, because
   XLA's CPU backend compiles convolutions inside loop bodies to much slower code (see Compiled.train_epoch).
   With several devices every batch is split over them (parallel.py); with --distributed or --coordinator,
   over every process's (distributed.py). Process 0 alone writes files; a process that fails stops the run.
3. After each epoch: test loss/accuracy, then run/checkpoint.npz (params, optimizer state, epoch, metrics) is
   written atomically (core/files.py: a temporary file renamed over the old one), then run/weights.npz
   (core.models.save, the playground's format, the standardization folded in) and run/metrics.json. A kill -9 at
   any moment loses at most the epoch in progress.
4. A loss that diverges (core.step's rule, checked on each epoch's losses: NaN/inf, or more than 1000 times the
   run's first) stops the run with core's message; the checkpoint of the last good epoch stays as it was.
   A NaN gradient shows as a NaN loss in the next step, so the same check catches it.

--lr-schedule cosine decays the rate from --lr to --lr / 10 over --epochs (optimizers.cosine_decay, as
`python -m core.train` does). The step count lives in the optimizer state, so the jitted steps follow it and a
resumed run continues where it stopped (with the same --epochs, exactly as if never interrupted).

Every epoch's shuffle and dropout keys derive from (--seed, epoch), so a resumed run ends with exactly the
params an uninterrupted one would have.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import cli, datasets, files, models, optimizers, step
from . import compiled, distributed, parallel, zoo

MODELS = {**{name: None for name in cli.MODELS}, **zoo.MODELS}     # lenet5, autoencoder, segmenter; vgg, resnet
DATASETS = ("mnist", "fashion_mnist", "synthetic")
CHECKPOINT, WEIGHTS, METRICS = "checkpoint.npz", "weights.npz", "metrics.json"
# Settings a resumed run must share with the run it continues (--epochs, --lr and --out may change: continuing
# with a smaller learning rate is a common schedule; the optimizer state does not depend on it).
# The schedule is among them: a cosine keeps its step count in the optimizer state, a constant rate has none.
# The weight decay has no state; it is kept with the checkpoint so that a resumed run decays as the first did.
SAME_ON_RESUME = ("model", "dataset", "batch_size", "optimizer", "momentum", "lr_schedule", "loss", "seed", "limit",
                  "weight_decay")


# -- data ------------------------------------------------------------------------------------------------------
def load_data(name, limit=None, seed=0, standardize=True):
    """((x_train, y_train), (x_test, y_test)) as float32 (N, 28, 28, 1), int32 labels: pixels standardized with
    MNIST's mean/std, or in [0, 1] with standardize=False.

    "synthetic" is random images with learnable labels (the brightest quadrant), for smoke tests without data.
    limit: the first `limit` training images and the first limit // 4 (at least 1) test images.
    """
    if name == "synthetic":
        n_train, n_test = limit or 2048, max((limit or 2048) // 4, 64)
        rng = np.random.default_rng(seed)
        x = rng.random((n_train + n_test, 28, 28), dtype=np.float32) * 255
        q = x.reshape(-1, 2, 14, 2, 14).sum(axis=(2, 4)).reshape(-1, 4)
        y = q.argmax(axis=1)
        (xtr, ytr), (xte, yte) = (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
    elif name in ("mnist", "fashion_mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (xtr, ytr), (xte, yte) = loader()
        if limit is not None and limit > len(ytr):
            raise ValueError(f"--limit {limit} is more than the {len(ytr)} training images of {name}")
        if limit:
            xtr, ytr, xte, yte = xtr[:limit], ytr[:limit], xte[:max(limit // 4, 1)], yte[:max(limit // 4, 1)]
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")

    def prep(x):
        x = np.asarray(x, np.float32)[..., None] / 255
        return standardized(x) if standardize else x
    return (prep(xtr), np.asarray(ytr, np.int32)), (prep(xte), np.asarray(yte, np.int32))


def standardized(x):
    """(x - mean) / std with MNIST's training-set statistics (the pixels the jitted steps see)."""
    return ((x - datasets.MNIST_MEAN) / datasets.MNIST_STD).astype(np.float32)


def build_model(name, input_shape=(28, 28, 1), classes=10):
    """lenet5 takes 32x32 (the lecture's LeNet-5, fed padded 28x28 digits); the zoo models take 28x28 directly."""
    if name in cli.MODELS:
        return cli.build_model(name)      # the same models as python -m core.train: weights interchangeable
    if name not in zoo.MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return zoo.MODELS[name](input_shape=input_shape, classes=classes)


def fit_input(x, model, background=None):
    """Pad 28x28 images to the model's input size (LeNet-5's 32x32) with `background`: 0 for plain pixels; None
    takes the images' minimum (the background of standardized digits)."""
    h, w = model.input_shape[:2]
    ph, pw = h - x.shape[1], w - x.shape[2]
    if ph < 0 or pw < 0:
        raise ValueError(f"images of {x.shape[1]}x{x.shape[2]} are larger than the model's input {h}x{w}")
    if ph or pw:
        background = float(x.min()) if background is None else background
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), constant_values=background)
    return x


# -- checkpoints: flat .npz files of plain arrays, written atomically ---------------------------------------
def flatten(tree, prefix=""):
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = np.asarray(v)
    return out


def unflatten(flat):
    tree = {}
    for key, v in flat.items():
        *path, leaf = key.split("/")
        node = tree
        for p in path:
            node = node.setdefault(p, {})
        node[leaf] = v
    return tree


def save_checkpoint(out, params, opt_state, epoch, history, config):
    arrays = {**{f"params/{k}": v for k, v in flatten(params).items()},
              **{f"opt/{k}": v for k, v in flatten(opt_state).items()},
              "epoch": np.array(epoch), "history": np.array(json.dumps(history)),
              "config": np.array(json.dumps(config))}
    files.atomic_write(Path(out) / CHECKPOINT, lambda f: np.savez(f, **arrays))


def load_checkpoint(out):
    """-> (params, opt_state, epoch, history, config) from out/checkpoint.npz (plain arrays, never unpickled; sizes
    checked before anything is allocated, core/files.py)."""
    path = Path(out) / CHECKPOINT
    try:
        arrays = files.read_npz(path, str(path))
        params = unflatten({k[7:]: v for k, v in arrays.items() if k.startswith("params/")})
        opt_state = unflatten({k[4:]: v for k, v in arrays.items() if k.startswith("opt/")})
        return (params, opt_state, int(arrays["epoch"]), json.loads(str(arrays["history"])),
                json.loads(str(arrays["config"])))
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        raise ValueError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e}); "
                         f"move it away to start over") from None


def check_opt_state(saved, fresh, where):
    """ValueError naming the first entry a checkpoint's optimizer state lacks, or has in another shape, compared
    with opt.init's (a checkpoint missing it would otherwise fail as a KeyError inside the jitted step)."""
    saved, fresh = flatten(saved), flatten(fresh)
    missing = sorted(set(fresh) - set(saved))
    extra = sorted(set(saved) - set(fresh))
    if missing or extra:
        raise ValueError(f"{where}: its optimizer state does not fit the optimizer: "
                         + (f"missing {', '.join('opt/' + k for k in missing[:4])}" if missing else "")
                         + ("; " if missing and extra else "")
                         + (f"unexpected {', '.join('opt/' + k for k in extra[:4])}" if extra else "")
                         + "; move it away to start over")
    for k, v in fresh.items():
        if np.shape(saved[k]) != np.shape(v):
            raise ValueError(f"{where}: opt/{k} has shape {np.shape(saved[k])}, expected {np.shape(v)}; "
                             f"move it away to start over")


def prepare_out(out):
    """Make the --out folder and check that files can be written in it, before any data is read or step taken."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; it must be a folder (for {CHECKPOINT}, {WEIGHTS}, {METRICS})")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"--out {out}: cannot make the folder ({e.strerror or e})") from None
    cli.check_out(out / CHECKPOINT)
    return out


def write_outputs(out, model, params, history, config, standardization=None):
    """The playground's weights file and the metrics JSON, both atomically. standardization (mean, std): the
    one the steps saw, folded into the first layer so the file takes plain [0, 1] pixels."""
    host_params = jax.tree_util.tree_map(np.asarray, params)
    if standardization is not None:
        host_params = cli.fold_standardization(model, host_params, *standardization)
    models.save(Path(out) / WEIGHTS, model, host_params)
    text = json.dumps({"config": config, "epochs": history}, indent=1).encode()
    files.atomic_write(Path(out) / METRICS, lambda f: f.write(text))


# -- the run -----------------------------------------------------------------------------------------------
def train(config, progress=True, log=print):
    """Run (or resume) a training run described by `config` (the CLI's options as a dict). Returns the history.

    Raises FloatingPointError when the loss stops being finite (the last good checkpoint is kept).
    """
    # only process 0 writes (the others may see another filesystem); every process reads a checkpoint there is
    out = prepare_out(config["out"]) if jax.process_index() == 0 else Path(config["out"])
    have_checkpoint = (out / CHECKPOINT).exists()
    if have_checkpoint and not config["resume"]:
        raise ValueError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out")

    model = build_model(config["model"])
    config = {**config, "loss": config["loss"] or cli.DEFAULT_LOSS.get(config["model"], "categorical_crossentropy")}
    (xtr, ytr), (xte, yte) = load_data(config["dataset"], config["limit"], config["seed"], standardize=False)
    if config["model"] in cli.MODELS:        # the inputs and targets python -m core.train makes (cli.examples)
        (xtr, ytr), (xte, yte) = cli.examples(config["model"], xtr, ytr), cli.examples(config["model"], xte, yte)
        ytr, yte = (y.astype(np.int32) if y.dtype.kind == "i" else y for y in (ytr, yte))
    else:
        xtr, xte = fit_input(xtr, model, background=0.0), fit_input(xte, model, background=0.0)
    # standardized steps when the first layer can take the standardization back on saving (cli.can_fold)
    standardization = (datasets.MNIST_MEAN, datasets.MNIST_STD) if cli.can_fold(model) else None
    if standardization is not None:
        xtr, xte = standardized(xtr), standardized(xte)
    if config["batch_size"] > len(xtr):
        raise ValueError(f"--batch-size {config['batch_size']} is larger than the {len(xtr)} training images")
    steps = len(xtr) // config["batch_size"]
    rate = config["lr"]
    if config["lr_schedule"] == "cosine":
        rate = optimizers.cosine_decay(rate, config["epochs"] * steps)
    # --momentum 0 means "not given": sgd/rmsprop then have none, the momentum/nesterov names their default
    opt = optimizers.get(config["optimizer"], learning_rate=rate,
                         **({"momentum": config["momentum"]} if config["momentum"] else {}),
                         **({"weight_decay": config["weight_decay"]} if config.get("weight_decay") else {}))
    devices = jax.devices()
    mesh = parallel.data_mesh(devices) if len(devices) > 1 else None
    jm = compiled.compile(model, optimizer=opt, loss=config["loss"], mesh=mesh)
    try:                    # a loss that does not fit the model's targets, said before anything is compiled
        model.evaluate(model.init(0), xtr[:2], ytr[:2], loss=config["loss"])
    except ValueError as e:
        raise ValueError(f"--loss {config['loss']} does not fit --model {config['model']}: {e}") from None
    settings = {k: config[k] for k in SAME_ON_RESUME}

    if have_checkpoint:
        params, opt_state, start, history, saved = load_checkpoint(out)
        saved.setdefault("lr_schedule", "constant")     # checkpoints from before --lr-schedule ran at a constant rate
        saved.setdefault("weight_decay", None)          # and those from before --weight-decay without it
        changed = {k: (saved.get(k), v) for k, v in settings.items() if saved.get(k) != v}
        if changed:
            raise ValueError(f"--resume: {out} was trained with different settings "
                             + ", ".join(f"{k}={a!r} (now {b!r})" for k, (a, b) in changed.items()))
        jm.check_params(params, where=f"{out / CHECKPOINT}")
        check_opt_state(opt_state, opt.init(params), where=f"{out / CHECKPOINT}")
        log(f"resuming {out} after epoch {start}")
    else:
        params = model.init(seed=config["seed"])
        opt_state, start, history = opt.init(params), 0, []

    put = (lambda t: parallel.replicate(t, mesh)) if mesh is not None else (lambda t: jax.tree_util.tree_map(
        jnp.asarray, t))
    params, opt_state = put(params), put(opt_state)
    xtr, ytr, xte, yte = put(xtr), put(ytr), put(xte), put(yte)     # resident on the device(s) from here on
    base_key = jax.random.key(config["seed"])
    per_epoch = steps * config["batch_size"]
    log(f"{model.name}: {model.count_params():,} weights, {len(xtr):,} training images, {steps} steps of "
        f"{config['batch_size']} per epoch on {len(devices)} {devices[0].platform} device(s); "
        + ("standardized pixels, folded into the first layer of weights.npz" if standardization else
           "[0, 1] pixels (the first layer cannot take a standardization back)"))

    limit = None        # the divergence limit: the first loss of this run (core.step.check_losses) sets it
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=per_epoch * (config["epochs"] - start), unit="img", unit_scale=True, dynamic_ncols=True)
    try:
        for epoch in range(start, config["epochs"]):
            t0 = time.perf_counter()
            key = jax.random.fold_in(base_key, epoch)
            new_params, new_state, losses = jm.train_epoch(params, opt_state, xtr, ytr, key, config["batch_size"],
                                                           loop=config.get("loop", "auto"))
            losses = np.asarray(losses)                  # waits for the epoch to finish
            seconds = time.perf_counter() - t0
            bad, limit = step.check_losses(losses, limit)
            if bad is not None:
                kept = f"the checkpoint of epoch {epoch} in {out} is kept" if epoch else "nothing was saved"
                where = f"epoch {epoch + 1}, batch {bad + 1}"
                raise FloatingPointError(f"{step.diverged_message(float(losses[bad]), where)}; try a smaller --lr; "
                                         f"{kept}")
            params, opt_state = new_params, new_state
            test = jm.evaluate(params, xte, yte, batch_size=min(1000, len(xte)), return_dict=True)
            record = {"epoch": epoch + 1, "loss": float(losses.mean()), **{f"test_{k}": v for k, v in test.items()},
                      "seconds": round(seconds, 3), "images_per_s": round(per_epoch / seconds, 1)}
            history.append(record)
            if jax.process_index() == 0:             # one writer when many hosts train together
                save_checkpoint(out, params, opt_state, epoch + 1, history, settings)
                write_outputs(out, model, params, history, config, standardization)
            if bar is not None:
                bar.update(per_epoch)
                bar.set_postfix(epoch=epoch + 1, loss=f"{record['loss']:.4f}", test_loss=f"{test['loss']:.4f}")
            log(f"epoch {epoch + 1}/{config['epochs']}: loss {record['loss']:.4f}, {cli.describe(test, 'test ')}, "
                f"{record['images_per_s']:,.0f} img/s ({seconds:.2f} s)")
    finally:
        if bar is not None:
            bar.close()
    return history


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.jax.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="lenet5", choices=sorted(MODELS))
    p.add_argument("--dataset", default="mnist", choices=DATASETS)
    p.add_argument("--epochs", type=cli.positive_int, default=10)
    p.add_argument("--batch-size", type=cli.positive_int, default=128)
    p.add_argument("--optimizer", default="adam", choices=list(optimizers.NAMES),
                   help="momentum and nesterov are SGD with momentum (0.9 unless --momentum says)")
    p.add_argument("--lr", type=cli.positive_float, default=1e-3)
    p.add_argument("--lr-schedule", default="constant", choices=("constant", "cosine"),
                   help="cosine: decay from --lr to --lr/10 over the run's --epochs; constant: keep --lr (default)")
    p.add_argument("--momentum", type=cli.nonnegative_float, default=0.0,
                   help="for sgd, rmsprop, momentum and nesterov")
    p.add_argument("--weight-decay", type=cli.nonnegative_float, default=None,
                   help="decoupled weight decay (Keras 3's weight_decay): each step, w -= lr * WD * w")
    p.add_argument("--loss", default=None, choices=["categorical_crossentropy", "mse", "focal"],
                   help="default: mse for the autoencoder, categorical_crossentropy for the others")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=cli.positive_int, default=None,
                   help="use only the first N training images (smoke runs)")
    p.add_argument("--out", default="run")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--loop", default="auto", choices=["auto", "scan", "steps"],
                   help="one lax.scan per epoch, or a loop of jitted steps; auto: steps on CPU, scan elsewhere")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    # -- many processes (core/jax/distributed.py): one per host, or several on one machine
    p.add_argument("--distributed", action="store_true",
                   help="join a run of many processes, found from SLURM, Open MPI or Cloud TPU's environment")
    p.add_argument("--coordinator", metavar="HOST:PORT",
                   help="join a run of many processes whose process 0 listens on HOST:PORT (with --num-processes "
                        "and --process-id)")
    p.add_argument("--num-processes", type=cli.positive_int, metavar="N")
    p.add_argument("--process-id", type=int, metavar="I", help="0 .. N-1; process 0 writes every file")
    p.add_argument("--heartbeat-timeout", type=cli.positive_int, default=distributed.HEARTBEAT_TIMEOUT,
                   metavar="SECONDS", help="a process silent this long counts as dead and the others stop "
                                           "(default %(default)s)")
    args = p.parse_args(argv)
    given = [args.coordinator is not None, args.num_processes is not None, args.process_id is not None]
    if any(given) and not all(given):
        p.error("--coordinator, --num-processes and --process-id go together (or use --distributed alone)")
    if args.coordinator is not None:
        try:
            distributed.parse_address(args.coordinator)
        except ValueError as e:
            p.error(str(e))
        if not 0 <= args.process_id < args.num_processes:
            p.error(f"--process-id must be from 0 to {args.num_processes - 1} (--num-processes "
                    f"{args.num_processes}), got {args.process_id}")
    return args


EXPECTED = (ValueError, FloatingPointError, OSError)    # bad input, a diverged loss, a failed write (disk full)


def main(argv=None):
    args = parse_args(argv)
    if args.distributed or args.coordinator:
        try:
            distributed.initialize(args.coordinator, args.num_processes, args.process_id, args.heartbeat_timeout)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    config = {k: getattr(args, k) for k in ("model", "dataset", "epochs", "batch_size", "optimizer", "lr",
                                            "lr_schedule", "momentum", "loss", "seed", "limit", "out", "resume",
                                            "loop", "weight_decay")}
    log = print if jax.process_index() == 0 else (lambda *a: None)
    try:
        train(config, progress=not args.no_progress and jax.process_index() == 0, log=log)
    except Exception as e:
        if jax.process_count() > 1:     # leave at once, saying which process and why (others may wait on it)
            distributed.stop(distributed.failure_message(e, config["out"], expected=isinstance(e, EXPECTED)))
        if not isinstance(e, EXPECTED):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
