"""dist/ from the parts: Pyodide's core, the wheels and their lock, BokehJS and Panel's JS/CSS, the data, the
bytecode, the hand-written page (static/) with its first view and Korean font, and site.json, then a gzipped
copy of whatever gzip shrinks.

    build(force)   dist/ rebuilt (force=False: only if stale()), swapped in whole when done
"""
import fcntl
import gzip
import json
import os
import shutil
import sys
import time
import zipfile
from pathlib import Path

from . import bytecode, fetch, first_view, font, lock, paths, wheels

APP = "playground.app:create_app"
BOKEH_JS = ("bokeh", "bokeh-widgets", "bokeh-tables")
# The first view needs only the photographs; the MNIST subset arrives after the page answers.
START_DATA = {"demo_images.npz"}
DATA = ("demo_images.npz", "mnist_subset.npz")    # what site_data exports (core.datasets names them)
# Loaded in the background once the page answers: Pillow decodes uploads (the app imports it lazily), and what
# the start does not import (lock.AFTER_START). Every one listed: their depends on each other are left out too.
AFTER_READY = ["pillow", *sorted(lock.AFTER_START)]


def build(force=True, dist=paths.DIST):
    """dist/ from scratch (cached inputs make this a matter of seconds); with force=False only if stale().

    Builds are serialized with a lock file in the cache (several test runs may share a checkout or a cache) and
    assembled in a private folder that replaces dist/ at the end, so a half-built dist/ is never served.
    """
    staging = paths.CACHE / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    with open(staging / "build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not force and (dist / "index.html").exists() and not stale(dist):
            paths.step(f"site: {dist} is up to date")
            return dist
        tmp = staging / f"dist-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        started = time.time()
        try:
            assemble_into(tmp)
            # The stamp says when the sources were read, not when the build ended: a source edited while it
            # ran is newer than the stamp, so the next build(force=False) does not serve the old one.
            os.utime(tmp / "site.json", (started, started))
            swap_in(tmp, dist)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    report(dist)
    return dist


def swap_in(new, dist):
    """`dist` replaced by the folder `new` with two renames; a `new` on another file system (a cache elsewhere)
    is first copied beside `dist`, since a rename cannot cross file systems."""
    dist.parent.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    if new.stat().st_dev != dist.parent.stat().st_dev:
        near = dist.with_name(f".{dist.name}-new-{pid}")
        shutil.rmtree(near, ignore_errors=True)
        shutil.copytree(new, near)
        new = near
    old = dist.with_name(f".{dist.name}-old-{pid}")
    if dist.exists():
        dist.rename(old)
    new.rename(dist)
    shutil.rmtree(old, ignore_errors=True)


def assemble_into(site):
    pkg_dir = site / "pyodide"
    pkg_dir.mkdir(parents=True)
    missing = fetch.missing()
    if missing:
        paths.step(f"downloads: {len(missing)} pinned files from npm and PyPI into {paths.CACHE} (the first time "
                   "only: about 130 MB, a minute or two) ...")
        fetch.download(missing)
    paths.step("wheels: Pyodide's own builds checked, Panel and Bokeh slimmed, the lock written (seconds) ...")
    core = fetch.pyodide_core()
    for name in ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"):
        shutil.copy2(core / name, pkg_dir / name)
    official, others = wheels.gather(pkg_dir)
    packages = lock.startup_packages(lock.write(pkg_dir, core / "pyodide-lock.json", official, others))
    web_assets(site)
    paths.step("data: the demo photographs and the MNIST subset (seconds) ...")
    data = site_data(site / "data")
    pyc = bytecode.precompile(pkg_dir, site / "data", packages, APP)
    config = {"pyodide": "pyodide/", "packages": packages,
              "data": [f"data/{n}" for n in data if n in START_DATA],
              "data_after_ready": [f"data/{n}" for n in data if n not in START_DATA],
              "panel_cdn_root": "panel/", "app": APP, "pycache": "pyodide/pycache.zip" if pyc else None,
              "after_ready": AFTER_READY}
    static_files(site, config)
    font.build(site / "fonts")
    paths.step("page: the first view (title, tabs, the story) written into index.html, then gzipped copies "
               "(seconds) ...")
    first_view.write(site / "index.html", first_view.page_texts(python()))
    precompress(site)


def web_assets(site):
    """BokehJS and Panel's JS from the verified wheels; Panel's CSS where PANEL_CDN_ROOT points (Panel asks for
    <root><its version>/dist/...)."""
    js = site / "js"
    js.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(fetch.fetch("bokeh")) as z:
        for name in BOKEH_JS:
            (js / f"{name}.min.js").write_bytes(z.read(f"bokeh/server/static/js/{name}.min.js"))
    css_root = site / "panel" / fetch.pin("panel")["version"] / "dist"
    with zipfile.ZipFile(fetch.fetch("panel")) as z:
        (js / "panel.min.js").write_bytes(z.read("panel/dist/panel.min.js"))
        for name in z.namelist():
            if name.startswith(("panel/dist/css/", "panel/dist/bundled/theme/")) and not name.endswith("/"):
                out = css_root / name.removeprefix("panel/dist/")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(z.read(name))


DATA_SCRIPT = """
import shutil, sys
from core import datasets as d
out = sys.argv[1]
for name, path, export in (("demo images", d.data_folder() / d.DEMO_CACHE, d.export_demo_images),
                           ("MNIST subset", d.subset_path("mnist"), lambda: d.export_subset("mnist"))):
    try:
        if not path.exists():
            export()
        shutil.copy(path, out)
    except Exception as e:  # the site still works: the labs draw a test pattern, the studio says what is missing
        print(name + " skipped:", e)
"""

DATA_CREDITS = """Data shipped with this site
mnist_subset.npz: a class-balanced subset of the MNIST database of handwritten digits (Yann LeCun, Corinna
  Cortes, Christopher J. C. Burges), licensed CC BY-SA 3.0; this subset is shared under the same licence.
demo_images.npz: photographs bundled with scikit-image (skimage.data), public domain / CC0 per its docstrings.
"""


def site_data(data_dir):
    """Demo photographs and the class-balanced MNIST subset, as core.datasets exports them (cached in data/)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (paths.ROOT / "core" / "datasets.py").exists():
        print("data: core/datasets.py not there yet, skipped")
        return []
    paths.run(python(), "-c", DATA_SCRIPT, data_dir, show=True)   # it prints only what it skipped
    (data_dir / "LICENSE-data.txt").write_text(DATA_CREDITS)
    return sorted(p.name for p in data_dir.glob("*.npz"))


def python():
    """The Python that has the app's dependencies (NumPy, Panel): .venv's, or this one if there is none."""
    return paths.VENV_PY if paths.VENV_PY.exists() else Path(sys.executable)


def static_files(site, config):
    """static/ into the site, with the build's config written where the worker reads it."""
    for src in paths.STATIC.rglob("*"):
        if src.is_file():
            dst = site / src.relative_to(paths.STATIC)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    (site / "site.json").write_text(json.dumps(config, indent=1))


def precompress(site, min_gain=0.1):
    """file.gz next to every file that gzip shrinks by at least `min_gain` (the server sends it when accepted)."""
    saved = 0
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix == ".gz":
            continue
        data = path.read_bytes()
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) < (1 - min_gain) * len(data):
            path.with_name(path.name + ".gz").write_bytes(packed)
            saved += len(data) - len(packed)
    return saved


def sources(root=paths.ROOT):
    """Every file dist/ is made from: the build itself (build.py, sitebuild/, requirements-dev.txt pinning
    pyodide-lock, pyproject.toml with the app's version), static/, core/, playground/ and the exported data."""
    files = [root / name for name in ("build.py", "requirements-dev.txt", "pyproject.toml")]
    files += [p for d in ("sitebuild", "static", "core", "playground") for p in sorted((root / d).rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts]
    return files + [root / "data" / name for name in DATA if (root / "data" / name).exists()]


def stale(dist=paths.DIST, root=paths.ROOT):
    """True when a source of `dist` (see sources()) is newer than its last build, or it was never built."""
    stamp = dist / "site.json"
    built = stamp.stat().st_mtime if stamp.exists() else 0
    return any(p.stat().st_mtime > built for p in sources(root) if p.exists())


def report(dist):
    files = [p for p in dist.rglob("*") if p.is_file() and p.suffix != ".gz"]
    raw = sum(p.stat().st_size for p in files)
    gz = sum((p.with_name(p.name + ".gz") if p.with_name(p.name + ".gz").exists() else p).stat().st_size
             for p in files)
    paths.step(f"site: {dist} built, {len(files)} files, {raw / 1e6:.1f} MB, {gz / 1e6:.1f} MB as served gzipped")
