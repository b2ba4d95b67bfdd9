"""The static site's build, in parts (build.py is its command line; docs/site-build.md tells the whole story):

    paths.py      where things are (ROOT, CACHE from $CNN_SITE_CACHE, DIST, STATIC), run() and step(): shared by all
    system.py     the system packages (chromium, node, npm, Fashion-MNIST), installed with apt-get by setup
    pins.py       every downloaded input: name, version, kind, sha256 (data only)
    fetch.py      downloads by pin, each checked against its sha256; Pyodide's core unpacked
    wheels.py     the shipped wheels: Pyodide's official builds (out of a carrier wheel), slimmed pure wheels,
                  the app's own wheel
    lock.py       pyodide-lock.json for them (the Pyodide project's pyodide-lock) and the start list
    bytecode.py   .pyc compiled by Pyodide in Node (bytecode_node.mjs + bytecode_compile.py), booting the app
                  with the page's own shim (static/boot.js, static/boot.py)
    font.py       the Korean web font, cut with fontTools to the Hangul the UI uses
    first_view.py the title, tabs and story written into index.html, readable before Python starts
    assemble.py   dist/ from the parts, staleness, precompression
    server.py     the local server and its CSP
"""
