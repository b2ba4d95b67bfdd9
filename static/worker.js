// The Python side of the playground, in a Web Worker so the page never freezes: boots Pyodide from this
// origin, loads the packages the build listed in site.json from the local pyodide-lock.json (loadPackage,
// integrity-checked; no micropip, no index), starts playground.app.create_app() with the boot shim it shares
// with the build (boot.js, boot.py) and sends the rendered Bokeh document to the page, then applies the page's
// changes and sends back Python's.
"use strict";
importScripts("boot.js", "pyodide/pyodide.js");   // boot.js: the boot shim shared with the build

const timings = {};
const t0 = performance.now();
const mark = (name) => { timings[name] = Math.round(performance.now() - t0); };
const here = (path) => new URL(path, self.location).href;

// The loading steps the page shows in its first view: [where the bar stands, English, Korean]. The language is
// the URL's (app.js starts the worker as worker.js#<the page's hash>), else the browser's, as
// playground/i18n.pick_language reads navigator.language.
const STEPS = {
  python: [4, "Starting Python", "파이썬을 시작하는 중"],
  numpy: [30, "Loading NumPy, Panel and Bokeh", "NumPy, Panel, Bokeh를 불러오는 중"],
  panel: [55, "Importing Panel", "Panel을 가져오는 중"],
  app: [80, "Building the playground", "놀이터를 만드는 중"],
  draw: [92, "Drawing the page", "화면을 그리는 중"],
};
const ORDER = ["python", "numpy", "panel", "app"];   // "draw" is the end of the app's step
const KOREAN = (/(?:^#|&)lang=(ko|en)(?:&|$)/.exec(self.location.hash)?.[1]
  ?? (self.navigator.language || "").split("-")[0].toLowerCase()) === "ko";
function status(step) {
  const [percent, en, ko] = STEPS[step];
  const n = ORDER.includes(step) ? ORDER.indexOf(step) + 1 : ORDER.length;
  self.postMessage({ type: "status", msg: `${n}/${ORDER.length} · ${KOREAN ? ko : en}…`, percent });
}

function sendPatch(patch, buffers) {
  self.postMessage({ type: "patch", patch, buffers });
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}
const fetchBytes = async (url) => new Uint8Array(await (await fetchOk(url)).arrayBuffer());

let pyodide = null;
let config = null;
let applyPatch = null;
let linkDocuments = null;

async function start() {
  status("python");
  config = await (await fetch("site.json")).json();
  const bootSource = fetchOk("boot.py").then((response) => response.text());
  // Data and Python start in parallel: the fetches finish while the WebAssembly compiles.
  const data = Promise.all(config.data.map(async (url) => [url.split("/").pop(), await fetchBytes(url)]));
  // Bytecode of every module the start imports, compiled by the build (import panel takes half as long).
  const pycache = config.pycache ? fetchBytes(config.pycache) : null;
  pyodide = await loadPyodide({ indexURL: here(config.pyodide) });
  mark("pyodide");
  status("numpy");
  await pyodide.loadPackage(config.packages, {
    checkIntegrity: true,
    messageCallback: () => {},
    errorCallback: (m) => self.postMessage({ type: "error", msg: m, fatal: false }),
  });
  mark("packages");
  if (pycache) {
    playgroundBoot.unpackBytecode(pyodide, await pycache);
    mark("pycache");
  }
  for (const [name, bytes] of await data) playgroundBoot.writeData(pyodide, name, bytes);
  mark("data");
  const progress = (step) => { mark(step); status(step); };   // boot.py's steps: panel, app, draw
  // A link into a lab (#...tab=conv...): load what only the labs use (site.json's after_ready, less Pillow, which
  // only uploads need) before the app, so Python builds that lab before the first draw and the link's state is
  // there at ready (issue 13: within 1 s of ready; 3.5-4.8 s when the lab waited for these after ready). A start
  // on the story, the usual one, does not wait for them.
  const labLink = self.location.hash.match(/[#&]tab=([^&]*)/) || self.location.hash.match(/^#(\w+)(&|$)/);
  if (labLink && labLink[1] !== "story") {
    await pyodide.loadPackage((config.after_ready || []).filter((n) => n !== "pillow"), { messageCallback: () => {} });
    mark("lab_packages");
  }
  const app = await playgroundBoot.start(pyodide, await bootSource,
    { ...config, panel_cdn_root: here(config.panel_cdn_root) }, progress);
  const [docsJson, renderItems, rootIds] = app.rendered;
  applyPatch = app.applyPatch;
  linkDocuments = app.linkDocuments;
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
      fetchBytes(url).then((bytes) => playgroundBoot.writeData(pyodide, url.split("/").pop(), bytes))
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
