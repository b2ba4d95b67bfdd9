// The page side of the playground: starts the Python worker, shows its progress, renders the Bokeh document
// the worker sends, and keeps the two documents in sync (the same protocol as Panel's pyodide worker).
// Readiness contract (docs/api.md): <html data-ready="true"> once the app answers input, removed while
// the page reloads or if the worker fails.
//
// Settings in the URL (playground/app.py, playground/urlstate.py): the worker is started as worker.js#<this page's
// hash>, so Python starts in the URL's language (and with the first room's settings); at ready the hash is sent on
// to Python's Location (a lab's settings, or a hash changed while Python started); afterwards Panel's Location
// model carries hash changes both ways (a link or the back button into Python, Python's writes into the history).
// While a change is in flight (between "patch" and "idle") for more than BUSY_AFTER_MS the page shows a busy bar
// (<html data-busy="true">). "Copy link" (.url-copy) copies the address once Python has written the current
// settings into it (a CustomJS would need eval, which the CSP forbids).
"use strict";

(function () {
  const BUSY_AFTER_MS = 300;
  const root = document.documentElement;
  delete root.dataset.ready;
  window.addEventListener("pagehide", () => { delete root.dataset.ready; });
  window.addEventListener("beforeunload", () => { delete root.dataset.ready; });

  // The first view (index.html, written in both languages) shows the language the app will pick: the URL's,
  // else the browser's (as playground/i18n.pick_language reads navigator.language).
  const hashLang = /(?:^#|&)lang=(ko|en)(?:&|$)/.exec(location.hash);
  root.lang = hashLang ? hashLang[1] : ((navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en");

  const startHash = location.hash;
  const worker = new Worker("worker.js" + startHash);   // Python reads it as the worker's own location.hash
  const started = performance.now();
  let jsdoc = null;      // the Bokeh document on this side, once rendered
  let busy = false;      // the worker is applying a patch; later changes wait in `queue` / `waiting`
  let queue = [];        // Bokeh events made meanwhile (the newest per model attribute)
  let waiting = [];      // whole patches made meanwhile (a forwarded hash)
  let patching = 0;      // >0 while applying the worker's patch, so it is not echoed back
  let busyTimer = null;
  let copyWanted = false;

  const domReady = new Promise((resolve) => {
    if (document.readyState !== "loading") resolve();
    else document.addEventListener("DOMContentLoaded", () => resolve());
  });

  function showStatus(msg, percent) {
    const text = document.getElementById("loading-msg");
    const bar = document.getElementById("loading-bar");
    if (text) text.textContent = msg;
    if (bar && percent != null) bar.value = percent;
  }

  function fail(message) {
    delete root.dataset.ready;
    console.error("CNN Playground failed to start:", message);
    const box = document.getElementById("loading");
    if (box) {
      // a Python traceback ends with the exception: show that, the whole story is in the console
      const lines = String(message).trim().split("\n").filter((line) => line.trim());
      box.hidden = false;
      box.classList.add("failed");
      showStatus(lines.slice(-2).join("\n"), null);
    }
  }

  // ---------------------------------------------------------------- busy: a change in flight for a while

  function setBusy(on) {
    busy = on;
    if (on && busyTimer === null) {
      busyTimer = setTimeout(() => { root.dataset.busy = "true"; }, BUSY_AFTER_MS);
    } else if (!on) {
      clearTimeout(busyTimer);
      busyTimer = null;
      delete root.dataset.busy;
      if (copyWanted) copyLink();
    }
  }

  function post(patch) {
    setBusy(true);
    worker.postMessage({ type: "patch", patch });
  }

  function sendChange(event) {
    if ((event.setter_id != null && event.setter_id === "py") || patching > 0) return;
    if (busy && event.model && event.attr) {
      // keep only the newest change of each model attribute while the worker is busy
      queue = queue.filter((old) => !(old.model === event.model && old.attr === event.attr));
      queue.push(event);
      return;
    }
    if (busy) {
      waiting.push(jsdoc.create_json_patch([event]));
      return;
    }
    post(jsdoc.create_json_patch([event]));
  }

  function sendPatch(patch) {
    if (busy) waiting.push(patch);
    else post(patch);
  }

  // ---------------------------------------------------------------- the URL

  // At ready, the hash goes to Python's Location as the Location model's own change would (the model on this side
  // already holds it, so it would not fire): Python built the first room from the start hash, a lab named there
  // is opened now (the worker holds this patch until the packages only labs use are loaded), and a hash changed
  // while Python started (a link of the first view) is applied. Applying the start hash twice changes nothing.
  function forwardHash() {
    const location_ = jsdoc && jsdoc.get_model_by_name("location");
    if (!location_ || !location.hash) return;
    sendPatch({ events: [{ kind: "ModelChanged", model: { id: location_.id }, attr: "hash", new: location.hash }] });
  }

  function toast(text) {
    let box = document.getElementById("site-toast");
    if (!box) {
      box = document.createElement("div");
      box.id = "site-toast";
      box.className = "site-toast";
      box.setAttribute("role", "status");
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box.timer);
    box.timer = setTimeout(() => { box.hidden = true; }, 2500);
  }

  function copyLink() {
    copyWanted = false;
    const url = location.href;
    const done = () => toast(`✓ ${url.length > 90 ? url.slice(0, 90) + "…" : url}`);
    const fallback = () => {
      const area = document.createElement("textarea");
      area.value = url;
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { toast(url); }
      area.remove();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, fallback);
    else fallback();
  }

  // A click on "copy link": Python writes the current settings into the URL (the button's own round trip);
  // the copy follows when nothing is in flight any more.
  document.addEventListener("click", (event) => {
    const path = event.composedPath ? event.composedPath() : [];
    if (!path.some((el) => el.classList && el.classList.contains("url-copy"))) return;
    copyWanted = true;
    setTimeout(() => { if (copyWanted && !busy) copyLink(); }, 150);   // (when the click sent nothing)
  }, true);

  // ---------------------------------------------------------------- rendering and the worker's messages

  async function render(msg) {
    await domReady;
    const docsJson = JSON.parse(msg.docs_json);
    const renderItems = JSON.parse(msg.render_items);
    const rootIds = JSON.parse(msg.root_ids);
    const container = document.getElementById("app");
    const roots = {};
    rootIds.forEach((id, i) => {
      const el = document.createElement("div");
      el.id = `app-root-${i}`;
      container.appendChild(el);
      roots[id] = el.id;
    });
    renderItems[0].roots = roots;
    renderItems[0].root_ids = rootIds;
    const views = await window.Bokeh.embed.embed_items(docsJson, renderItems);
    jsdoc = [...views[0].roots.values()][0].model.document;
    jsdoc.on_change(sendChange, false);
    document.getElementById("loading").hidden = true;
    const bar = document.createElement("div");   // the busy bar, shown by CSS under html[data-busy]
    bar.className = "site-busy";
    bar.setAttribute("aria-hidden", "true");
    document.body.appendChild(bar);
    worker.postMessage({ type: "rendered" });
  }

  worker.onmessage = (event) => {
    const msg = event.data;
    if (msg.type === "status") {
      showStatus(msg.msg, msg.percent);
    } else if (msg.type === "render") {
      render(msg).catch((e) => fail(`rendering failed: ${e}`));
    } else if (msg.type === "ready") {
      root.dataset.ready = "true";
      // worker phases (ms since the worker started) and ready_ms since navigation start, for benchmarks
      window.cnnPlaygroundTimings = { worker: msg.timings, worker_start_ms: started, ready_ms: performance.now() };
      forwardHash();
    } else if (msg.type === "patch") {
      try {
        patching += 1;
        jsdoc.apply_json_patch(msg.patch, msg.buffers);
      } finally {
        patching -= 1;
      }
    } else if (msg.type === "idle") {
      if (waiting.length) {
        worker.postMessage({ type: "patch", patch: waiting.shift() });
      } else if (queue.length) {
        const patch = jsdoc.create_json_patch(queue);
        queue = [];
        worker.postMessage({ type: "patch", patch });
      } else {
        setBusy(false);
      }
    } else if (msg.type === "error") {
      if (msg.fatal) fail(msg.msg);
      else console.error(msg.msg);
    }
  };
  worker.onerror = (event) => fail(`the Python worker stopped: ${event.message}`);
})();
