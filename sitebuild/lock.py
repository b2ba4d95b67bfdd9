"""pyodide-lock.json for the wheels the site ships, written with the Pyodide project's own `pyodide-lock`
(a typed model of the lock; `add_wheels_to_spec` reads each wheel's name, version, imports and requirements,
evaluating markers for the lock's platform), so the file has exactly the format Pyodide 0.27 itself ships.

The worker loads packages from it with loadPackage (integrity-checked): no micropip, no index at run time. A
package's `depends` are what loadPackage pulls in with it, which is how the lazy packages below stay out of the
start.
"""
import json
from pathlib import Path

# Never needed in the browser: tornado is excluded by its own marker (emscripten); panel imports nh3 only to
# sanitize HTML and panel-material-ui only for its Material components, neither of which the playground uses.
NOT_SHIPPED = {"tornado", "nh3", "panel-material-ui"}
# Shipped in the lock (loadable later) but not loaded at start: the first view never imports them.
# bokeh imports pandas/PIL/contourpy/xyzservices lazily; panel imports requests only for remote files;
# panel.io.pyodide imports pandas unless pyodide_http exists, so static/boot.py defines a stub pyodide_http.
LAZY = {"pandas", "pillow", "contourpy", "xyzservices", "requests", "urllib3", "idna", "certifi",
        "charset-normalizer", "python-dateutil", "pytz", "six"}
# Shipped and loaded by the worker once the page answers (assemble.AFTER_READY), so the start unpacks 11 packages
# instead of 19: the first view imports none of them (Panel's Markdown pane and its parsers, narwhals for
# dataframes, typing_extensions). The bytecode step starts the app without them, so a start that needs one fails
# the build rather than the page.
AFTER_START = {"markdown", "markdown-it-py", "mdit-py-plugins", "mdurl", "linkify-it-py", "uc-micro-py", "narwhals",
               "typing-extensions"}
# linkify-it-py 2.2.0's metadata forgets its one dependency.
EXTRA_DEPENDS = {"linkify-it-py": {"uc-micro-py"}}


def write(pkg_dir, official_lock, official, others):
    """pkg_dir/pyodide-lock.json: the `official` wheels' entries as `official_lock` (Pyodide's own lock) lists them,
    plus an entry for each of `others` (wheel paths inside pkg_dir). Returns the lock as a dict."""
    from pyodide_lock import PyodideLockSpec   # pinned in requirements-dev.txt
    from pyodide_lock.utils import add_wheels_to_spec

    full = PyodideLockSpec.from_json(Path(official_lock))
    files = {p.name for p in official}
    kept = {name: entry for name, entry in full.packages.items() if entry.file_name in files}
    if len(kept) != len(files):
        raise ValueError(f"{official_lock}: lists no entry for {sorted(files - {e.file_name for e in kept.values()})}")
    spec = add_wheels_to_spec(full.model_copy(update={"packages": kept}), list(others), base_path=Path(pkg_dir),
                              ignore_missing_dependencies=True)    # NOT_SHIPPED ones are dropped below
    for name, entry in spec.packages.items():
        if name not in kept:
            entry.depends = sorted((set(entry.depends) | EXTRA_DEPENDS.get(name, set())) - NOT_SHIPPED - LAZY
                                   - AFTER_START)
    missing = {d for e in spec.packages.values() for d in e.depends} - set(spec.packages)
    if missing:
        raise ValueError(f"pyodide-lock.json: depends on packages that are not shipped: {sorted(missing)}")
    spec.to_json(Path(pkg_dir) / "pyodide-lock.json", indent=1)
    return json.loads((Path(pkg_dir) / "pyodide-lock.json").read_text())


def startup_packages(lock, app="cnn-playground"):
    """The closure of `app`'s depends in `lock` (which leaves out LAZY and AFTER_START), sorted."""
    want, todo = set(), [app]
    while todo:
        name = todo.pop()
        if name not in want:
            want.add(name)
            todo += lock["packages"][name]["depends"]
    return sorted(want)
