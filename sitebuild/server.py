"""The local server for dist/: the page's Content-Security-Policy on every response, the precompressed .gz when
the client accepts gzip, and `no-cache` (revalidate, answered 304) so a rebuild is never hidden by a stale cache.
"""
import email.utils
import html
import http.server
import re
import shutil
import sys
import urllib.parse
from pathlib import Path

from . import paths


def page_csp(index_html):
    """The policy the page declares in its <meta http-equiv="Content-Security-Policy">: the server sends the same
    one as a header, so there is one policy, written (and explained) once, in static/index.html."""
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', Path(index_html).read_text())
    if not found:
        raise ValueError(f"{index_html}: no <meta http-equiv=\"Content-Security-Policy\" content=\"...\">")
    return html.unescape(found.group(1))


CSP = page_csp(paths.STATIC / "index.html")
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
         ".html": "text/html; charset=utf-8", ".css": "text/css", ".whl": "application/zip", ".zip": "application/zip",
         ".npz": "application/octet-stream", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2",
         ".py": "text/x-python; charset=utf-8"}


def make_server(dist=paths.DIST, host="127.0.0.1", port=8000, log=False, sent=None):
    """A threaded HTTP server for the folder `dist` (port 0: a free one, see server_address).
    `sent`, a list, receives (path, status, body bytes) for every response (benchmarks count the bytes)."""
    dist = Path(dist).resolve()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if log:
                super().log_message(fmt, *args)

        def do_HEAD(self):
            self.do_GET(body=False)

        def do_GET(self, body=True):
            rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/") or "index.html"
            path = (dist / rel).resolve()
            if path.is_dir():
                path = path / "index.html"
            if dist not in path.parents or not path.is_file() or path.suffix == ".gz":
                return self.send_error(404)
            send = path
            gz = path.with_name(path.name + ".gz")
            encoded = "gzip" in self.headers.get("Accept-Encoding", "") and gz.is_file()
            if encoded:
                send = gz
            stat = send.stat()
            modified = email.utils.formatdate(int(path.stat().st_mtime), usegmt=True)
            etag = f'"{stat.st_size:x}-{int(stat.st_mtime):x}{"-gz" if encoded else ""}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self._headers(etag, modified)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return sent is not None and sent.append((rel, 304, 0))
            self.send_response(200)
            self._headers(etag, modified)
            self.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
            if encoded:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(stat.st_size))
            self.end_headers()
            if body:
                with open(send, "rb") as f:
                    shutil.copyfileobj(f, self.wfile)
            if sent is not None:
                sent.append((rel, 200, stat.st_size if body else 0))

        def _headers(self, etag, modified):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):   # a closed tab is no error
                super().handle_error(request, client_address)

    return Server((host, port), Handler)


def serve(dist=paths.DIST, port=8000):
    """Serve `dist` on http://127.0.0.1:<port>/ until Ctrl+C."""
    server = make_server(dist, port=port, log=True)
    print(f"CNN Playground: http://127.0.0.1:{port}/  (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
