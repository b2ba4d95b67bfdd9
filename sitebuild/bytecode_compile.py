"""Runs inside Pyodide (sitebuild/bytecode_node.mjs), once the app has started exactly as in the page: compiles
every imported module to .pyc, so the page's `import panel` skips the compiler (about 7 s -> 3.5 s).

Hash-based and unchecked: used without reading the source, and always rebuilt with the wheels (the cache key
covers them), so never stale. Site-packages modules go into pycache.zip (unpacked over site-packages by the
worker); standard-library ones are added next to their .py inside python_stdlib.zip, where zipimport prefers
them. Pyodide's own Python writes them, so the magic number matches. Also importable on the host (tests).
"""
import importlib._bootstrap_external as bx
import importlib.util
import io
import sys
import site
import zipfile
from pathlib import Path


def compile_imported(modules, site_packages, stdlib_zip):
    """(pycache.zip, python_stdlib.zip with .pyc added, how many standard-library modules) as bytes, bytes, int:
    the `modules` (module objects) whose source lies under the folder `site_packages` or inside the zip `stdlib_zip`."""
    site_prefix, std_prefix = site_packages.rstrip("/") + "/", stdlib_zip.rstrip("/") + "/"
    stdlib = zipfile.ZipFile(stdlib_zip)
    site_zip, std = io.BytesIO(), {}
    with zipfile.ZipFile(site_zip, "w", zipfile.ZIP_DEFLATED) as out:
        for module in list(modules):
            path = getattr(module, "__file__", None) or ""
            if not path.endswith(".py") or not path.startswith((site_prefix, std_prefix)):
                continue
            in_site = path.startswith(site_prefix)
            rel = path[len(site_prefix if in_site else std_prefix):]
            source = Path(path).read_bytes() if in_site else stdlib.read(rel)
            code = compile(source, path, "exec", dont_inherit=True)
            pyc = bx._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
            if in_site:
                out.writestr(bx.cache_from_source(rel), pyc)
            else:
                std[rel[:-3] + ".pyc"] = pyc
    std_zip = io.BytesIO()
    with zipfile.ZipFile(std_zip, "w", zipfile.ZIP_DEFLATED) as out:
        for info in stdlib.infolist():
            out.writestr(info, stdlib.read(info))
        for name, data in sorted(std.items()):
            out.writestr(name, data)
    return site_zip.getvalue(), std_zip.getvalue(), len(std)


def compile_this_interpreter():
    """compile_imported for the running Pyodide: its sys.modules, site-packages and standard-library zip."""
    stdlib_zip = next(p for p in sys.path if p.endswith(".zip"))
    return compile_imported(sys.modules.values(), site.getsitepackages()[0], stdlib_zip)
