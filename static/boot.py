"""The Python half of the playground's Pyodide boot (the JS half, boot.js, runs this file). Shared by the page's
worker and the build's bytecode step in Node, so the build compiles bytecode for exactly the modules the page
imports, imported the same way.

    start(config, progress) -> (docs_json, render_items, root_ids)   the app built and rendered (async)
    apply_patch(patch)                                                 a change made on the page, into Python
    link_documents(send)                                               Python's changes out, as send(patch, buffers)
config: {"app": "module:function", "panel_cdn_root": URL, "data_dir": folder}; progress(step) is told each
step as it begins: "panel" (import panel), "app" (the app built), "draw" (its document written).
"""
import importlib
import os
import sys
import types

import js
import pyodide.code
import pyodide.ffi


def shim_pyodide():
    """Panel 1.9 on Pyodide 0.27, under a CSP that forbids eval."""
    # Panel 1.9 expects Pyodide >= 0.28, which has pyodide.ffi.jsnull; on 0.27 JS null already arrives as None,
    # so a sentinel that never matches is an exact equivalent.
    if not hasattr(pyodide.ffi, "jsnull"):
        pyodide.ffi.jsnull = type("JsNull", (), {"__repr__": lambda self: "jsnull"})()
    # panel.io.pyodide imports pandas (5.7 MB) only to patch its URL readers when pyodide_http is missing;
    # the playground never reads URLs, so an empty pyodide_http keeps pandas out of the start.
    if "pyodide_http" not in sys.modules:
        sys.modules["pyodide_http"] = types.SimpleNamespace(patch_all=lambda: None)
    # No eval under the CSP: the one JS function Panel would evaluate is defined in boot.js instead.
    run_js = pyodide.code.run_js

    def run_js_without_eval(code, *args, **kwargs):
        if "Object.fromEntries(entries)" in code and "entry[1] = null" in code:
            return js.playgroundBoot.panelDictConverter
        return run_js(code, *args, **kwargs)   # anything else is refused by the CSP, loudly

    pyodide.code.run_js = run_js_without_eval


async def start(config, progress):
    shim_pyodide()
    os.environ["PANEL_CDN_ROOT"] = config["panel_cdn_root"]   # Panel's CSS from this origin, not a CDN
    os.environ["CNN_PLAYGROUND_DATA"] = config["data_dir"]

    progress("panel")
    import panel  # noqa: F401  (Panel configures itself for Pyodide on import)
    from panel.io.pyodide import init_doc, write_doc

    progress("app")
    init_doc()
    module, function = config["app"].split(":")
    getattr(importlib.import_module(module), function)().servable(title="CNN Playground")

    progress("draw")
    return await write_doc()


def apply_patch(patch):
    from panel.io.pyodide import _convert_json_patch
    from panel.io.state import state
    state.curdoc.apply_json_patch(_convert_json_patch(patch), setter="js")


def link_documents(send):
    from panel.io.pyodide import _link_docs_worker
    from panel.io.state import state
    _link_docs_worker(state.curdoc, send, setter="js")
