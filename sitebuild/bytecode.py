"""Precompiled bytecode for the site: Pyodide itself, run once in Node, starts the app as the page would and
compiles what it imported (bytecode_node.mjs runs bytecode_compile.py there). Needs node; without it the site
still works, only slower to start (Python compiles at load time instead).
"""
import hashlib
import json
import shutil
from pathlib import Path

from . import fetch, paths

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "bytecode_node.mjs"
# What the bytecode is made of besides the lock, the start list and the app: a change to any recompiles.
SOURCES = (RUNNER, HERE / "bytecode_compile.py", paths.STATIC / "boot.js", paths.STATIC / "boot.py")


def cache_key(lock_file, packages, app):
    h = hashlib.sha256(Path(lock_file).read_bytes())
    for source in SOURCES:
        h.update(source.read_bytes())
    h.update(json.dumps([packages, app]).encode())
    return h.hexdigest()[:16]


def precompile(pkg_dir, data_dir, packages, app):
    """pkg_dir/pycache.zip and a pkg_dir/python_stdlib.zip with .pyc added; cached in CACHE/pyc by their
    inputs. `packages`: what the worker loads at start; `app`: "module:function". False when node is missing."""
    if not shutil.which("node"):
        print("pyc: node not found, skipped (the site works, Python compiles at load time instead)")
        return False
    out = paths.CACHE / "pyc" / cache_key(pkg_dir / "pyodide-lock.json", packages, app)
    if not (out / "pycache.zip").exists():
        paths.step("bytecode: Pyodide in Node starts the app once and compiles what it imported (about 30 s) ...")
        work = out.with_suffix(".tmp")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        paths.run("node", RUNNER, fetch.pyodide_core(), f"{pkg_dir}/", paths.STATIC, app, json.dumps(packages),
                  data_dir, work)
        shutil.rmtree(out, ignore_errors=True)
        work.rename(out)
    shutil.copy2(out / "pycache.zip", pkg_dir / "pycache.zip")
    shutil.copy2(out / "python_stdlib.zip", pkg_dir / "python_stdlib.zip")
    return True
