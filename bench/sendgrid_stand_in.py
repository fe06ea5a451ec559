#!/usr/bin/env python3
"""A lean stand-in for SendGrid's mail send, for measuring sending: its own process, so it takes little CPU.

Speaks what our client sends and reads (HTTP/1.1 kept alive, `POST /v3/mail/send` with a bearer key, 202
with `X-Message-ID`, SendGrid's 400 and 401 bodies), answering each mail after `--latency-ms`. It counts
every mail by our message id (the `reengage_message_id` custom arg), so a benchmark can tell that each
went exactly once: `GET /stats` answers {"sent": ..., "repeated": ..., "unnamed": ...}. Prints its port on
its first line. The tests' fake (tests/fakes/sendgrid.py) records whole requests instead, which costs a
thread and about a millisecond of CPU a request: on a 2-core machine the measurement would eat what it
measures.

    .venv/bin/python bench/sendgrid_stand_in.py [--latency-ms 0] [--api-key KEY]
"""

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

UNAUTHORIZED = {"errors": [{"field": None, "help": None,
                            "message": "The provided authorization grant is invalid, expired, or revoked"}]}
NO_PERSONALIZATIONS = {"errors": [{"field": "personalizations", "help": None, "message": (
    "The personalizations field is required and must have at least one personalization.")}]}
REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


class StandIn:
    def __init__(self, api_key: str, latency: float):
        self.api_key, self.latency = api_key, latency
        self.ids = itertools.count(1)
        self.seen: set[str] = set()
        self.repeated = self.unnamed = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {name.strip().lower(): value.strip()
                           for name, _, value in (line.partition(":") for line in lines if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, answer, extra = await self.answer(method, path, headers, body)
                payload = b"" if answer is None else json.dumps(answer).encode()
                out = [f"HTTP/1.1 {status} {REASONS[status]}", f"Content-Length: {len(payload)}",
                       "Content-Type: application/json", *(f"{k}: {v}" for k, v in extra.items())]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, object, dict]:
        if method == "GET" and path == "/stats":
            return 200, {"sent": len(self.seen), "repeated": self.repeated, "unnamed": self.unnamed}, {}
        if (method, path) != ("POST", "/v3/mail/send"):
            return 404, {"errors": [{"message": "not found"}]}, {}
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, UNAUTHORIZED, {}
        mail = json.loads(body or b"{}")
        if not mail.get("personalizations") or not mail.get("from"):
            return 400, NO_PERSONALIZATIONS, {}
        if self.latency:
            await asyncio.sleep(self.latency)
        name = (mail.get("custom_args") or mail["personalizations"][0].get("custom_args") or {}).get(
            "reengage_message_id")
        if name is None:
            self.unnamed += 1
        elif name in self.seen:
            self.repeated += 1
        else:
            self.seen.add(name)
        return 202, None, {"X-Message-ID": f"stand-in-{next(self.ids):07d}"}


class Running:
    """The stand-in in its own process, for a benchmark: its URL and key, what it counted, and stopping it."""

    def __init__(self, latency_ms: float = 0.0, api_key: str = "SG.bench-key.abcdefghij"):
        self.api_key = api_key
        self._process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--latency-ms",
                                          str(latency_ms), "--api-key", api_key], stdout=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{int(self._process.stdout.readline())}"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as answer:
            return json.load(answer)

    def close(self) -> None:
        self._process.terminate()
        self._process.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--api-key", default="SG.bench-key.abcdefghij")
    args = parser.parse_args()
    stand_in = StandIn(args.api_key, args.latency_ms / 1000)
    server = await asyncio.start_server(stand_in.serve, "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
