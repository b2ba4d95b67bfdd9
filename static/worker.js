// The Python side of the playground, in a Web Worker so the page never freezes: boots Pyodide from this
// origin, loads the packages the build listed in site.json from the local pyodide-lock.json (loadPackage,
// integrity-checked; no micropip, no index), runs playground.app.create_app() and sends the rendered Bokeh
// document to the page, then applies the page's changes and sends back Python's.
"use strict";
importScripts("pyodide/pyodide.js");

const timings = {};
const t0 = performance.now();
const mark = (name) => { timings[name] = Math.round(performance.now() - t0); };
const status = (msg, percent) => self.postMessage({ type: "status", msg, percent });
const here = (path) => new URL(path, self.location).href;

// Panel evaluates this one JS snippet with pyodide.code.run_js at import; the page's CSP forbids eval, so the
// worker defines the function itself and BOOT hands it out for that snippet (see run_js below).
self.panelDictConverter = (entries) => {
  for (const entry of entries) {
    if (entry[1] === undefined) entry[1] = null;
  }
  return Object.fromEntries(entries);
};

function sendPatch(patch, buffers) {
  self.postMessage({ type: "patch", patch, buffers });
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// Run once Python is up. Each step reports progress through `progress` (a JS function).
const BOOT = `
import importlib, os, sys, types
import pyodide.ffi

# Panel 1.9 expects Pyodide >= 0.28, which has pyodide.ffi.jsnull; on 0.27 JS null already arrives as None,
# so a sentinel that never matches is an exact equivalent.
if not hasattr(pyodide.ffi, "jsnull"):
    pyodide.ffi.jsnull = type("JsNull", (), {"__repr__": lambda self: "jsnull"})()
# panel.io.pyodide imports pandas (5.7 MB) only to patch its URL readers when pyodide_http is missing;
# the playground never reads URLs, so an empty pyodide_http keeps pandas out of the start.
if "pyodide_http" not in sys.modules:
    sys.modules["pyodide_http"] = types.SimpleNamespace(patch_all=lambda: None)
# No eval under the CSP: the JS that Panel would evaluate is defined in worker.js instead.
import js, pyodide.code
_run_js = pyodide.code.run_js


def run_js(code, *args, **kwargs):
    if "Object.fromEntries(entries)" in code and "entry[1] = null" in code:
        return js.panelDictConverter
    return _run_js(code, *args, **kwargs)   # anything else is refused by the CSP, loudly


pyodide.code.run_js = run_js
os.environ["PANEL_CDN_ROOT"] = config["panel_cdn_root"]   # Panel's CSS from this origin, not a CDN
os.environ["CNN_PLAYGROUND_DATA"] = config["data_dir"]

progress("Importing Panel", 62)
import panel as pn
from panel.io.pyodide import _convert_json_patch, _link_docs_worker, init_doc, write_doc
from panel.io.state import state

progress("Building the playground", 80)
init_doc()
_module, _function = config["app"].split(":")
getattr(importlib.import_module(_module), _function)().servable(title="CNN Playground")

progress("Drawing", 92)
_docs = await write_doc()


def apply_patch(patch):
    state.curdoc.apply_json_patch(_convert_json_patch(patch), setter="js")


def link_documents(send):
    _link_docs_worker(state.curdoc, send, setter="js")

_docs
`;

const DATA_DIR = "/home/pyodide/data";   // $CNN_PLAYGROUND_DATA for core.datasets
let pyodide = null;
let config = null;
let applyPatch = null;
let linkDocuments = null;

async function start() {
  status("Starting Python (Pyodide)", 2);
  config = await (await fetch("site.json")).json();
  // Data and Python start in parallel: the fetches finish while the WebAssembly compiles.
  const data = Promise.all(config.data.map(async (url) => [url.split("/").pop(), await fetchBytes(url)]));
  // Bytecode of every module the start imports, compiled by the build (import panel takes half as long).
  const pycache = config.pycache ? fetchBytes(config.pycache) : null;
  pyodide = await loadPyodide({ indexURL: here(config.pyodide) });
  mark("pyodide");
  status(`Loading ${config.packages.length} packages (NumPy, Panel, Bokeh, …)`, 25);
  await pyodide.loadPackage(config.packages, {
    checkIntegrity: true,
    messageCallback: () => {},
    errorCallback: (m) => self.postMessage({ type: "error", msg: m, fatal: false }),
  });
  mark("packages");
  if (pycache) {
    pyodide.unpackArchive(await pycache, "zip", { extractDir: "/lib/python3.12/site-packages" });
    mark("pycache");
  }
  pyodide.FS.mkdirTree(DATA_DIR);
  for (const [name, bytes] of await data) pyodide.FS.writeFile(`${DATA_DIR}/${name}`, bytes);
  mark("data");
  status("Starting the playground", 60);
  const globals = pyodide.globals;
  globals.set("config", pyodide.toPy({ ...config, panel_cdn_root: here(config.panel_cdn_root), data_dir: DATA_DIR }));
  globals.set("progress", (msg, percent) => { mark(msg); status(msg, percent); });
  globals.set("sendPatch", sendPatch);
  const docs = await pyodide.runPythonAsync(BOOT);
  const [docsJson, renderItems, rootIds] = docs.toJs();
  docs.destroy();
  applyPatch = globals.get("apply_patch");
  linkDocuments = globals.get("link_documents");
  mark("rendered");
  self.postMessage({ type: "render", docs_json: docsJson, render_items: renderItems, root_ids: rootIds });
}

// Messages from the page are handled one after another, in order.
let chain = start().catch((e) => {
  self.postMessage({ type: "error", msg: `${e}`, fatal: true });
  throw e;
});

function handle(msg) {
  if (msg.type === "rendered") {
    linkDocuments(sendPatch);
    mark("linked");
    self.postMessage({ type: "ready", timings });
    for (const url of config.data_after_ready || []) {
      fetchBytes(url).then((bytes) => pyodide.FS.writeFile(`${DATA_DIR}/${url.split("/").pop()}`, bytes))
        .catch((e) => console.warn(`${url} not loaded: ${e}`));
    }
    // Pillow is only needed for uploads: load it now that the page answers, off the critical path. The
    // returned promise holds the message chain, so a change made meanwhile (an upload) waits for it.
    if (config.after_ready?.length) {
      return pyodide.loadPackage(config.after_ready, { messageCallback: () => {} })
        .catch((e) => console.warn(`${config.after_ready} not loaded: ${e}`));
    }
  } else if (msg.type === "patch") {
    try {
      applyPatch(msg.patch);
    } catch (e) {
      self.postMessage({ type: "error", msg: `a callback failed: ${e}`, fatal: false });
    }
    self.postMessage({ type: "idle" });
  }
}

self.onmessage = (event) => {
  chain = chain.then(() => handle(event.data));
};
