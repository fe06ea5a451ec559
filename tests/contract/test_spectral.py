"""openapi.yaml passes Spectral's `spectral:oas` ruleset with nothing to report, not even a hint."""

import json
import shutil
import subprocess
from pathlib import Path

import dev
from tests.support import require_service

ROOT = Path(__file__).resolve().parents[2]
TOOL = Path(__file__).resolve().parent / "spectral"


def spectral() -> Path:
    """Spectral's CLI, installed from the npm registry by its lock file (again only when the lock changes)."""
    tools = dev.ensure_npm_packages(TOOL, "Spectral") if shutil.which("node") else None
    if tools is None:
        require_service("Node.js", "node and npm are needed to run Spectral")
    return TOOL / "node_modules" / ".bin" / "spectral"


def test_openapi_yaml_passes_spectral_oas():
    run = subprocess.run([spectral(), "lint", "--ruleset", TOOL / ".spectral.yaml", "--fail-severity", "hint",
                          "--format", "json", "--quiet", ROOT / "openapi.yaml"],
                         capture_output=True, text=True, timeout=300)
    problems = json.loads(run.stdout or "[]")
    shown = [f"{p['code']} at {'.'.join(map(str, p['path']))}: {p['message']}" for p in problems[:20]]
    assert run.returncode == 0 and problems == [], "\n".join(shown) or run.stderr[-3000:]
