"""Errors reach Sentry when SENTRY_DSN is set, without the secrets a URL or a request carries."""

import gzip
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import sentry_sdk

from app import create_app
from tests.support import settings

# Made at run time, so that the source lines a report quotes do not hold them either.
TOKEN, KEY = uuid.uuid4().hex, f"rk_{uuid.uuid4().hex}"


class FakeSentry(BaseHTTPRequestHandler):
    """Sentry's ingest endpoint: takes envelopes (POST /api/<project>/envelope/) and keeps them."""

    envelopes: ClassVar[list[list[dict]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert self.path == "/api/42/envelope/"
        self.envelopes.append([json.loads(line) for line in body.splitlines() if line.startswith(b"{")])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_an_unexpected_error_is_reported_without_the_url_token(database_url):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = create_app(settings(database_url, SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/42"))

        @app.route("/v1/webhooks/sendgrid/<token>/explode")
        def explode(token):
            raise RuntimeError("a bug")

        response = app.test_client().get(f"/v1/webhooks/sendgrid/{TOKEN}/explode",
                                         headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 500 and response.json["error"]["code"] == "internal_error"
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.init()  # no DSN: reporting off again for the other tests
        server.shutdown()
    events = [item for envelope in FakeSentry.envelopes for item in envelope if "exception" in item]
    assert events, FakeSentry.envelopes
    text = json.dumps(events)
    assert "RuntimeError" in text and "a bug" in text
    assert TOKEN not in text and KEY not in text
