// The JavaScript half of the playground's Pyodide boot; the Python half is boot.py. Both are shared by the
// page's worker (worker.js loads this with importScripts) and the build's bytecode step (Node runs it the same
// way, sitebuild/bytecode_node.mjs), so the app the build compiles bytecode for starts exactly as in the page.
"use strict";

globalThis.playgroundBoot = {
  // Where core.datasets finds the shipped data inside Pyodide (boot.py sets $CNN_PLAYGROUND_DATA to it).
  dataDir: "/home/pyodide/data",

  // Panel evaluates one JS snippet with pyodide.code.run_js at import (this dict converter); the page's CSP
  // forbids eval, so the function is defined here and boot.py hands it out for that snippet.
  panelDictConverter(entries) {
    for (const entry of entries) {
      if (entry[1] === undefined) entry[1] = null;
    }
    return Object.fromEntries(entries);
  },

  writeData(pyodide, name, bytes) {
    pyodide.FS.mkdirTree(this.dataDir);
    pyodide.FS.writeFile(`${this.dataDir}/${name}`, bytes);
  },

  // The build's precompiled bytecode (a zip of __pycache__ folders) over site-packages, after loadPackage.
  unpackBytecode(pyodide, zipBytes) {
    const site = pyodide.runPython("import site; site.getsitepackages()[0]");
    pyodide.unpackArchive(zipBytes, "zip", { extractDir: site });
  },

  // Runs boot.py (its source text) and its start(config, progress): the app built and its document rendered.
  // Returns [docs_json, render_items, root_ids] and boot.py's apply_patch and link_documents.
  async start(pyodide, bootSource, config, progress) {
    const boot = pyodide.globals.get("dict")();
    pyodide.runPython(bootSource, { globals: boot, filename: "boot.py" });
    const docs = await boot.get("start")(pyodide.toPy({ ...config, data_dir: this.dataDir }), progress);
    const rendered = docs.toJs();
    docs.destroy();
    return { rendered, applyPatch: boot.get("apply_patch"), linkDocuments: boot.get("link_documents") };
  },
};
