"""Style sheets and scripts served by the server itself (the console's, the dashboard's and the charting library),
gzipped when the browser takes it and cached by the browser for a day."""

import gzip
from functools import cache
from pathlib import Path

from flask import Response, request

FOLDER = Path(__file__).resolve().parent / "pages" / "assets"
TYPES = {".css": "text/css", ".js": "text/javascript"}
MAX_AGE = 86400


def served(body: bytes, packed: bytes, mimetype: str) -> Response:
    """`body` as is, or `packed` (its gzip) when the request accepts gzip."""
    zipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(packed if zipped else body, mimetype=mimetype,
                        headers={"Cache-Control": f"public, max-age={MAX_AGE}", "Vary": "Accept-Encoding"})
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    return response


def file(name: str) -> Response | None:
    """The asset file `name` of the pages' assets folder; None when there is none of that name."""
    found = _read(name)
    return None if found is None else served(*found)


@cache
def _read(name: str) -> tuple[bytes, bytes, str] | None:
    path = FOLDER / name
    if path.suffix not in TYPES or path.parent != FOLDER or not path.is_file():
        return None
    return *pack(path.read_bytes()), TYPES[path.suffix]


def pack(body: bytes) -> tuple[bytes, bytes]:
    """`body` and its gzip (the same bytes every time: no timestamp inside)."""
    return body, gzip.compress(body, mtime=0)
