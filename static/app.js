// The page side of the playground: starts the Python worker, shows its progress, renders the Bokeh document
// the worker sends, and keeps the two documents in sync (the same protocol as Panel's pyodide worker).
// Readiness contract (docs/api.md): <html data-ready="true"> once the app answers input, removed while
// the page reloads or if the worker fails.
"use strict";

(function () {
  const root = document.documentElement;
  delete root.dataset.ready;
  window.addEventListener("pagehide", () => { delete root.dataset.ready; });
  window.addEventListener("beforeunload", () => { delete root.dataset.ready; });

  const worker = new Worker("worker.js");
  const started = performance.now();
  let jsdoc = null;      // the Bokeh document on this side, once rendered
  let busy = false;      // the worker is applying a patch; later changes wait in `queue`
  let queue = [];
  let patching = 0;      // >0 while applying the worker's patch, so it is not echoed back

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

  function sendChange(event) {
    if ((event.setter_id != null && event.setter_id === "py") || patching > 0) return;
    if (busy && event.model && event.attr) {
      // keep only the newest change of each model attribute while the worker is busy
      queue = queue.filter((old) => !(old.model === event.model && old.attr === event.attr));
      queue.push(event);
      return;
    }
    busy = true;
    worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch([event]) });
  }

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
    } else if (msg.type === "patch") {
      try {
        patching += 1;
        jsdoc.apply_json_patch(msg.patch, msg.buffers);
      } finally {
        patching -= 1;
      }
    } else if (msg.type === "idle") {
      if (queue.length) {
        const patch = jsdoc.create_json_patch(queue);
        queue = [];
        worker.postMessage({ type: "patch", patch });
      } else {
        busy = false;
      }
    } else if (msg.type === "error") {
      if (msg.fatal) fail(msg.msg);
      else console.error(msg.msg);
    }
  };
  worker.onerror = (event) => fail(`the Python worker stopped: ${event.message}`);
})();
