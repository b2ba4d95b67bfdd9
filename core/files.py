"""Files written so that a crash never leaves half of one, and .npz files read without trusting them.

    files.atomic_write(path, lambda f: f.write(data))   # a temporary file beside path, fsync, renamed over it
    path = files.check_writable("run/w.npz")           # ValueError now, not after an hour of training
    arrays = files.read_npz(source, "w.npz")           # {name: array}; ValueError for anything wrong with it

Every file the core and its command lines write goes through atomic_write: the old file stays whole until the
new one is complete, so a kill, a full disk or a refused write never costs a good file. read_npz is the one
reader for .npz files that come from outside (weights files, checkpoints, the data caches): it checks every
array's claimed shape against the bytes that hold it before allocating anything, never unpickles, and turns
whatever is wrong with the bytes into a ValueError naming the file.

Standard library and NumPy only (it runs under Pyodide, where the studio reads uploads from memory).
"""
import io
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

MAX_NPZ_BYTES = 1 << 30          # 1 GiB: far above any file the playground writes (MNIST's cache is 55 MB)
MAX_MEMBERS = 10_000


class _Refused(ValueError):
    """A ValueError this module wrote (it names the file already)."""


# ---------------------------------------------------------------- writing

def atomic_write(path, write):
    """write(file) into a temporary file beside `path`, fsync it, then rename it over `path` (atomic on POSIX).

    If write raises (or the process dies), `path` is left as it was and the temporary file is removed."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)     # mkstemp makes it private; these are ordinary output files
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def check_writable(path, what="output"):
    """The Path `path` if a file can be written there now; else ValueError naming it and saying why.

    Checked by creating (and removing) a temporary file in its folder, as atomic_write will: the folder must
    exist, be writable, and `path` must not be a folder."""
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder, not a file")
    if not folder.is_dir():
        raise ValueError(f"{what} {path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise ValueError(f"{what} {path}: cannot write in {folder} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(tmp)
    return path


# ---------------------------------------------------------------- reading

def read_bytes(source, where, max_bytes=MAX_NPZ_BYTES):
    """The bytes of a path, file-like or bytes, at most max_bytes; ValueError naming `where` otherwise."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        try:
            if os.path.getsize(source) > max_bytes:
                raise ValueError(f"{where} is larger than {max_bytes:,} bytes")
            with open(source, "rb") as f:
                data = f.read(max_bytes + 1)
        except OSError as e:
            raise ValueError(f"cannot read {where}: {e.strerror or e}") from None
    if not isinstance(data, bytes):
        raise ValueError(f"{where}: expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise ValueError(f"{where} is larger than {max_bytes:,} bytes")
    return data


def _array_header(member, where, name):
    """(shape, fortran_order, dtype, header length) of one .npy member, checked before anything is allocated."""
    fp = io.BytesIO(member)
    try:
        version = npy.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise _Refused(f"{where}: {name} has unsupported .npy format version {version}")
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = reader(fp)
    except _Refused:
        raise
    except ValueError as e:
        raise _Refused(f"{where}: {name} has a damaged array header ({e})") from None
    if dtype.hasobject:
        raise _Refused(f"{where} contains pickled objects ({name}), which are never loaded "
                         f"(only plain arrays are allowed)")
    return shape, fortran, dtype, fp.tell()


def read_npz(source, where, max_bytes=MAX_NPZ_BYTES, max_members=MAX_MEMBERS):
    """{name: array} from an .npz (a path, file-like or bytes) as np.savez writes it. Never unpickles.

    ValueError naming `where` if the bytes are not a zip of .npy arrays, if the file or its arrays together are
    larger than max_bytes, or if an array's header claims another size than the bytes that follow it (checked
    before the array is allocated, so a 2 kB file cannot ask for 700 GB)."""
    data = read_bytes(source, where, max_bytes)
    if data[:4] != b"PK\x03\x04":
        # np.load would take other bytes for a pickle; say what the file really is
        raise ValueError(f"{where} is truncated or not a .npz file (it does not start like a zip archive)")
    arrays = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > max_members:
                raise _Refused(f"{where} holds {len(infos):,} arrays, more than {max_members:,}")
            if sum(i.file_size for i in infos) > max_bytes:
                raise _Refused(f"{where} unpacks to more than {max_bytes:,} bytes")
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise _Refused(f"{where}: {info.filename!r} is not a .npy array")
                name = info.filename[:-4]
                member = z.read(info)            # checks the CRC; at most info.file_size bytes
                shape, fortran, dtype, start = _array_header(member, where, name)
                claimed = math.prod(shape) * dtype.itemsize
                if claimed != len(member) - start:
                    raise _Refused(f"{where}: {name} claims shape {shape} of {dtype} ({claimed:,} bytes) but holds "
                                     f"{len(member) - start:,} bytes")
                array = np.frombuffer(member, dtype, count=math.prod(shape), offset=start)
                arrays[name] = array.reshape(shape, order="F" if fortran else "C").copy()
    except _Refused:
        raise
    except (ValueError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, KeyError, TypeError,
            NotImplementedError, RuntimeError, UnicodeDecodeError, SyntaxError, OverflowError) as e:
        # what zipfile and numpy's header parser raise for damaged bytes (RuntimeError: an encrypted member)
        raise ValueError(f"{where} is truncated or not a .npz file ({type(e).__name__}: {e})") from None
    return arrays
