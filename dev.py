#!/usr/bin/env python3
"""Set up a virtual environment, then serve or test: `python3 dev.py serve|test [args...]`."""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
BROWSER = ("/usr/bin/chromium", "/usr/bin/chromedriver")
ZAPIER = ROOT / "integrations" / "zapier"


def say(text: str) -> None:
    """Tell the person at the terminal what is happening."""
    print(f"reengage: {text}", file=sys.stderr, flush=True)


def ensure(requirements: str) -> None:
    """Create .venv and install `requirements` into it, unless that was already done."""
    if not (BIN / "python").exists():
        say(f"creating a virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(ROOT.glob("requirements*.txt")))).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say(f"installing the packages of {requirements} (the first time takes a few minutes)")
    subprocess.check_call([BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar",
                           "off", "-r", ROOT / requirements], stdout=sys.stderr)
    stamp.write_text(wanted)
    say("packages installed")


def ensure_chromium() -> None:
    """Debian's Chromium and ChromeDriver, which the dashboard's browser test drives; installed when missing and
    this is Debian run as root, else left to the test (which then skips, or fails with REQUIRE_SERVICES=1)."""
    if all(Path(p).exists() for p in BROWSER) or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", "chromium-driver"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say("installing Debian's chromium and chromium-driver for the dashboard test")
    if subprocess.call(install, stdout=subprocess.DEVNULL, env=env) != 0:
        subprocess.call(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, env=env)
        subprocess.call(install, stdout=subprocess.DEVNULL, env=env)


def bound_address(args: list[str]) -> tuple[str, str]:
    """(host, port) gunicorn will serve on: `--bind`/`-b` in `args`, else HOST and PORT, else 127.0.0.1:8000."""
    bind = None
    for index, arg in enumerate(args):
        if arg in ("-b", "--bind") and index + 1 < len(args):
            bind = args[index + 1]
        elif arg.startswith("--bind="):
            bind = arg.split("=", 1)[1]
    if bind and not bind.startswith("unix:"):
        host, _, port = bind.rpartition(":")
        return host or "127.0.0.1", port
    return os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")


def next_steps(url: str) -> None:
    """What to do once the server answers: make an account key, open the console."""
    say(f"starting the server on {url} (Ctrl+C stops it); unsubscribe links will point there (PUBLIC_URL)")
    say("next, in another terminal: create an account and its API key with")
    say(f"    {BIN / 'flask'} accounts create \"My business\"")
    say(f"then open {url}/console and sign in with that key; the API is described at {url}/openapi.yaml")


def ensure_npm_packages(folder: Path, what: str) -> Path | None:
    """`folder`'s npm packages, from its lock file (again only when the lock file changes); answers the folder of
    their commands, or None without npm. The Zapier app's tools and the tests' Spectral and axe-core come this way."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    lock, stamp = folder / "package-lock.json", folder / "node_modules" / ".installed-lock"
    if not stamp.exists() or stamp.read_bytes() != lock.read_bytes():
        say(f"installing {what} from its lock file (npm ci)")
        subprocess.check_call([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, stdout=subprocess.DEVNULL)
        stamp.write_bytes(lock.read_bytes())
    return folder / "node_modules" / ".bin"


def ensure_zapier_tools() -> Path | None:
    """The Zapier app's packages, with Node 22 and zapier-platform-cli; the folder of their commands, or None."""
    return ensure_npm_packages(ZAPIER, "the Zapier app's Node 22 and CLI")


def main(argv: list[str]) -> None:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    os.chdir(ROOT)
    if command == "serve":
        ensure("requirements.txt")
        host, port = bound_address(args)
        reached = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::", "[::]") else host
        os.environ.setdefault("PUBLIC_URL", f"http://{reached}:{port}")
        os.environ.setdefault("LOG_FORMAT", "text")  # a person reads this terminal
        next_steps(os.environ["PUBLIC_URL"])
        os.execv(BIN / "gunicorn", [str(BIN / "gunicorn"), "app:app", *args])
    elif command == "test":
        ensure("requirements-dev.txt")
        ensure_chromium()
        ensure_zapier_tools()
        os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *args])
    sys.exit("usage: python3 dev.py serve [gunicorn options] | python3 dev.py test [pytest options]")


if __name__ == "__main__":
    main(sys.argv[1:])
