"""A threaded local HTTP server that records requests and answers through a route table or a script."""

import json
import re
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    # Room for as many waiting connections as a send job opens at once (socketserver's default is 5): a full
    # backlog drops the rest, which a client under load meets as connect timeouts.
    request_queue_size = 128


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    # The client's (address, port): requests on one kept-alive connection share it.
    peer: tuple = ()

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Subclasses declare ROUTES: (method, path regex, handler name); `script` overrides the next answers."""

    ROUTES: tuple[tuple[str, str, str], ...] = ()
    # HTTP/1.1 keeps a client's connection open between requests, as the real services do.
    PROTOCOL = "HTTP/1.0"

    def __init__(self, tls: ssl.SSLContext | None = None, latency: float = 0.0):
        self.requests: list[Recorded] = []
        # Seconds every answer waits (an API's own time to answer), without holding up other connections.
        self.latency = latency
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = self.PROTOCOL

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length),
                                    tuple(self.client_address))
                if fake.latency:
                    time.sleep(fake.latency)
                reply = fake._answer(recorded)
                body = b"" if reply.body is None else (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode())
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._scheme = "https" if tls else "http"
        if tls is not None:  # for clients that only speak https (simple-salesforce)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}"

    def script(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next request (whatever it is) with this, instead of the route table."""
        self._script.append(Reply(status, body, headers or {}))

    def made(self, method: str, path_pattern: str) -> list[Recorded]:
        """The recorded requests whose method and path match."""
        return [r for r in self.requests if r.method == method and re.fullmatch(path_pattern, r.path.split("?")[0])]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            if self._script:
                return self._script.popleft()
            refused = self.refuse(recorded)
            if refused is not None:
                return refused
            path = recorded.path.split("?")[0]
            for method, pattern, handler in self.ROUTES:
                match = re.fullmatch(pattern, path)
                if method == recorded.method and match:
                    return getattr(self, handler)(recorded, *match.groups())
            return Reply(404, {"message": f"no route {recorded.method} {path}"})

    def refuse(self, recorded: Recorded) -> Reply | None:
        """An answer for requests refused before routing (bad credentials), or None."""
        return None
