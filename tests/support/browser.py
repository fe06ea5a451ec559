"""Browser checks shared by the console's tests: axe-core's accessibility audit and screenshots at two widths."""

from pathlib import Path

import dev
from tests.support import require_service

AXE = Path(__file__).resolve().parent / "axe"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
WIDTHS = (1400, 375)
MAX_HEIGHT = 12000  # a page taller than this is photographed down to here
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
        # The window's height includes the browser's own bars (about 140 px, even headless): added back, so the
        # screenshot holds the page's last lines too.
        height, bars = browser.execute_script("return [document.documentElement.scrollHeight, "
                                              "window.outerHeight - window.innerHeight]")
        browser.set_window_size(width, min(max(height, 600), MAX_HEIGHT) + bars)
        if browser.execute_script("return !!window.Plotly"):  # charts redraw for the new width a moment later
            browser.execute_async_script("const done = arguments[arguments.length - 1]; setTimeout(done, 500);")
        shown = browser.execute_script("return window.innerHeight")
        assert shown >= min(height, MAX_HEIGHT), f"{name} at {width} px: {shown} of {height} px shown"
        path = SCREENSHOTS / f"{name}-{width}.png"
        browser.save_screenshot(str(path))
        saved.append(path)
    browser.set_window_size(WIDTHS[0], 1000)
    return saved


# Every pair of texts drawn in one chart (ticks, axis titles, legend) that overlap, and any text cut off at its sides.
CLASHES = """
const found = [];
document.querySelectorAll('[data-chart]').forEach(chart => {
  const box = chart.getBoundingClientRect();
  const texts = [...chart.querySelectorAll('svg text')].filter(t => t.textContent.trim())
    .map(t => [t.textContent.trim(), t.getBoundingClientRect()]).filter(([, r]) => r.width > 0);
  texts.forEach(([text, r], i) => {
    if (r.left < box.left - 1 || r.right > box.right + 1) found.push([chart.dataset.chart, 'cut off', text]);
    texts.slice(i + 1).forEach(([other, s]) => {
      if (Math.min(r.right, s.right) - Math.max(r.left, s.left) > 1
          && Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top) > 1) found.push([chart.dataset.chart, text, other]);
    });
  });
});
return found;
"""


def clashes(browser) -> list[list[str]]:
    """The chart labels drawn over one another or cut off on the page shown."""
    return browser.execute_script(CLASHES)


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
