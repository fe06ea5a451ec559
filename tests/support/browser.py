"""Browser checks shared by the console's tests: axe-core's accessibility audit and screenshots at two widths."""

from pathlib import Path

import dev
from tests.support import require_service

AXE = Path(__file__).resolve().parent / "axe"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
WIDTHS = (1400, 375)
# What axe-core may report: anything "serious" or "critical" fails the page.
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """axe-core's script, installed from its lock file (again only when the lock changes; npm)."""
    if dev.ensure_npm_packages(AXE, "axe-core") is None:
        require_service("npm", "npm is needed to install axe-core for the accessibility check")
    return (AXE / "node_modules" / "axe-core" / "axe.min.js").read_text()


def violations(browser) -> list[dict]:
    """axe-core's serious and critical findings on the page shown (the script is injected by the test alone)."""
    browser.execute_script(axe_source())
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({"
        "id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))));")
    return [v for v in found if v["impact"] in BLOCKING]


def screenshots(browser, name: str) -> list[Path]:
    """The whole page at each width in WIDTHS, saved under tests/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    saved = []
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(max(height, 600), 6000))
        path = SCREENSHOTS / f"{name}-{width}.png"
        browser.save_screenshot(str(path))
        saved.append(path)
    browser.set_window_size(WIDTHS[0], 1000)
    return saved


def overflows(browser) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def audit(browser, name: str) -> None:
    """The page passes axe-core and fits 375 px; screenshots of it are saved."""
    found = violations(browser)
    assert found == [], f"{name}: {found}"
    screenshots(browser, name)
    browser.set_window_size(WIDTHS[1], 900)
    wide = overflows(browser)
    browser.set_window_size(WIDTHS[0], 1000)
    assert wide <= 0, f"{name}: {wide} px wider than a 375 px screen"
