"""A local HTTP server on 127.0.0.1 (random port, own thread) that replays recorded answers.

Tests give it ``routes``: a function ``path -> (status, body text, delay s)``; every requested
path is recorded in ``server.paths``. No test touches the internet.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        srv = self.server
        srv.paths.append(self.path)  # type: ignore[attr-defined]
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            srv.bodies.append(self.rfile.read(n).decode("utf-8"))  # type: ignore[attr-defined]
        status, body, delay = srv.routes(self.path)  # type: ignore[attr-defined]
        if delay:
            time.sleep(delay)
        data = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: object) -> None:  # quiet
        pass


@contextlib.contextmanager
def serve(routes: Callable[[str], tuple[int, str, float]]) -> Iterator[http.server.HTTPServer]:
    """Run a server answering with `routes`; yields it (``server.url``, ``server.paths``)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.routes, srv.paths, srv.bodies = routes, [], []  # type: ignore[attr-defined]
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()
