// The build's bytecode step (sitebuild/bytecode.py runs it): boots Pyodide in Node the way the page's worker
// does, with the same boot shim (static/boot.js, static/boot.py), then compiles every module the start imported
// (bytecode_compile.py) and writes pycache.zip and python_stdlib.zip into OUT_DIR.
//   node bytecode_node.mjs CORE_DIR INDEX_URL STATIC_DIR APP PACKAGES_JSON DATA_DIR OUT_DIR
import fs from "fs";
import path from "path";
import vm from "vm";

const [core, index, staticDir, app, packages, dataDir, outDir] = process.argv.slice(2);
const read = (file) => fs.readFileSync(file, "utf8");
vm.runInThisContext(read(path.join(staticDir, "boot.js")), { filename: "boot.js" });   // as importScripts does
const { loadPyodide } = await import(path.join(core, "pyodide.mjs"));
globalThis.XMLHttpRequest = class {};   // panel.io.pyodide imports it; the worker has the real one
const pyodide = await loadPyodide({ indexURL: index });
await pyodide.loadPackage(JSON.parse(packages), { messageCallback: () => {} });
for (const name of fs.readdirSync(dataDir)) {
  playgroundBoot.writeData(pyodide, name, fs.readFileSync(path.join(dataDir, name)));
}
// Any origin will do: nothing is fetched here, only the modules imported.
const config = { app, panel_cdn_root: "http://127.0.0.1/panel/" };
await playgroundBoot.start(pyodide, read(path.join(staticDir, "boot.py")), config, () => {});

const compiler = pyodide.globals.get("dict")();
pyodide.runPython(read(new URL("bytecode_compile.py", import.meta.url)), { globals: compiler });
const [site, stdlib, nstd] = compiler.get("compile_this_interpreter")().toJs();
fs.writeFileSync(path.join(outDir, "pycache.zip"), site);
fs.writeFileSync(path.join(outDir, "python_stdlib.zip"), stdlib);
console.log(`pyc: ${site.length} bytes for site-packages, ${nstd} standard-library modules`);
// Done: a timer the app started (a periodic callback, asyncio's loop) would otherwise keep Node running forever.
process.exit(0);
