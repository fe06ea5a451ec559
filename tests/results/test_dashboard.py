"""The dashboard: sign-in with an API key, a session cookie with CSRF-protected forms, and charts drawn in Chromium."""

import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from tests.support import require_service
from tests.support.browser import audit, clashes
from tests.support.journeys import abandon, setup_sales, tick
from tests.support.results import click, convert

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHARTS = ("funnel", "over_time", "phases", "channels", "holdout", "ab_0")
# The colours the charts draw bars in (reengage.results.dashboard.COLOURS), as RGB.
BAR_COLOURS = [(0x2e, 0x9e, 0x6a), (0x5b, 0x8d, 0xef), (0xf0, 0xa4, 0x31), (0x9a, 0xa5, 0xb1)]


@pytest.fixture
def history(app, client, acme):
    """Twelve applications abandoned ten days ago in a flow holding half out; step 1.pick-up goes as A or B.
    Chosen by hand: every treated B clicks and comes back a day after the step, one held-out contact comes
    back on their own."""
    setup_sales(client, acme, holdout_percent=50)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    enrolled = {f"d{n}": abandon(app, client, acme, {"external_id": f"d{n}", "email": f"d{n}@example.com",
                                                       "first_name": f"Person{n}"}, key=f"d{n}", at=start)
                for n in range(12)}
    treated = {name: next(m for m in e["messages"] if m["step"] == "1.pick-up") for name, e in enrolled.items()
               if not e["holdout"]}
    held = sorted(name for name, e in enrolled.items() if e["holdout"])
    assert treated and held
    for message in treated.values():
        tick(app, datetime.fromisoformat(message["due_at"]))
    recovered = 0
    for name, message in treated.items():
        sent = datetime.fromisoformat(client.get(f"/v1/messages/{message['id']}", headers=acme.headers)
                                      .json["sent_at"])
        if message["variant"] == "B":
            click(client, acme, name, {**message, "sent_at": sent})
            convert(client, acme, name, sent + timedelta(days=1), 120)
            recovered += 1
    convert(client, acme, held[0], start + timedelta(days=3), 80)
    return {"dropoffs": len(enrolled), "recovered": recovered + 1, "key": acme.key}


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, key):
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    return client.post("/dashboard/sign-in", data={"api_key": key, "csrf_token": csrf_token(page)})


def test_the_dashboard_asks_for_a_key_then_keeps_a_session(app, client, acme, history):
    assert client.get("/dashboard").headers["Location"] == "/dashboard/sign-in"
    assert client.post("/dashboard/sign-in", data={"api_key": acme.key}).status_code == 400  # no CSRF token
    wrong = sign_in(client, "rk_nothing_wrong")
    assert wrong.status_code == 401 and "not valid" in wrong.get_data(as_text=True)
    assert sign_in(client, acme.key).headers["Location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    text = page.get_data(as_text=True)
    assert f'id="tile-dropoffs">{history["dropoffs"]}<' in text
    assert f'id="tile-recovered">{history["recovered"]}<' in text
    assert text.count('data-chart="') == len(CHARTS) and "Person" in text
    # Nothing is fetched from elsewhere: every script and style sheet comes from this server.
    assert acme.key not in text
    assert all(src.startswith("/dashboard/assets/") for src in re.findall(r'(?:src|href)="([^"?]+\.(?:js|css))"', text))
    # Sign-out is a form too: without its token nothing happens.
    assert client.post("/dashboard/sign-out").status_code == 400
    assert client.get("/dashboard").status_code == 200
    assert client.post("/dashboard/sign-out", data={"csrf_token": csrf_token(text)}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_another_account_sees_only_its_own_dashboard(client, globex, history):
    assert sign_in(client, globex.key).status_code == 302
    text = client.get("/dashboard").get_data(as_text=True)
    assert 'id="tile-dropoffs">0<' in text and 'id="tile-recovered">0<' in text
    assert "Person" not in text and 'data-chart="' not in text and "No dropoffs yet." in text
    lines = client.get("/dashboard/metrics.csv").get_data(as_text=True).strip().splitlines()
    assert lines == lines[:1]  # a header and no day


def test_a_revoked_key_ends_its_sessions_and_bad_periods_are_refused(app, client, acme):
    assert sign_in(client, acme.key).status_code == 302
    assert client.get("/dashboard?days=7").status_code == 200
    bad = client.get("/dashboard?days=12")
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"] == "days"
    with app.app_context():
        from reengage import cli
        app.test_cli_runner().invoke(cli.revoke_key, [acme.key])
    assert client.get("/dashboard").headers["Location"] == "/dashboard/sign-in"


def test_the_csv_download_needs_the_session_and_counts_the_days(app, client, acme, history):
    assert client.get("/dashboard/metrics.csv").status_code == 302
    sign_in(client, acme.key)
    response = client.get("/dashboard/metrics.csv?days=30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("group,dropoffs,") and len(lines) == 2  # every dropoff was detected on one day
    assert lines[1].split(",")[1] == str(history["dropoffs"])


@pytest.fixture
def live(app):
    """The test app served over HTTP on a free local port, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (Debian's chromium and chromium-driver, which `python3 dev.py test` installs)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        require_service("Chromium", f"{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium "
                                    "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,3000", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def drawn_share(png: bytes) -> float:
    """The share of a chart's pixels in the bar colours (within a small tolerance for anti-aliasing)."""
    from PIL import Image

    raw = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    pixels = [tuple(raw[i:i + 3]) for i in range(0, len(raw), 3)]
    near = sum(1 for p in pixels if any(sum(abs(a - b) for a, b in zip(p, c, strict=True)) < 30 for c in BAR_COLOURS))
    return near / len(pixels)


def test_the_charts_are_drawn_in_chromium(app, live, browser, history, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live}/dashboard")
    assert browser.current_url.endswith("/dashboard/sign-in")
    browser.find_element(By.ID, "api_key").send_keys(history["key"])
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    drawn = WebDriverWait(browser, 60).until(lambda b: b.execute_script(
        "return location.pathname === '/dashboard' && document.body.dataset.chartsDrawn"))
    assert drawn == str(len(CHARTS))
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    print(f"screenshot: {tmp_path / 'dashboard.png'}")
    for name in CHARTS:
        chart = browser.find_element(By.ID, f"chart-{name}")
        assert chart.find_elements(By.CSS_SELECTOR, "svg.main-svg"), f"{name}: no SVG drawn"
        bars = chart.find_elements(By.CSS_SELECTOR, ".bars .point path")
        assert bars, f"{name}: no bars"
        share = drawn_share(chart.screenshot_as_png)
        assert share > 0.003, f"{name}: only {share:.2%} of the chart is bar-coloured"
    assert browser.find_element(By.ID, "tile-recovered").text == str(history["recovered"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#latest tbody tr")) == history["dropoffs"]
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    # Six contacts a side: the holdout lift is flagged, with no interval.
    assert "too few to tell" in browser.find_element(By.CSS_SELECTOR, ".small-sample").find_element(
        By.XPATH, "..").text
    # No label drawn over another, on a wide screen or opened on a phone; the page passes axe-core and fits 375 px.
    assert clashes(browser) == []
    browser.set_window_size(375, 900)
    browser.refresh()
    WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.body.dataset.chartsDrawn"))
    assert clashes(browser) == []
    audit(browser, "dashboard-charts")


def test_revenue_is_shown_per_currency_and_a_custom_range_is_read_in_the_account_zone(app, client, acme):
    from tests.support import event

    setup_sales(client, acme)  # the account's zone is America/New_York
    # Detected at 02:00 UTC: still the day before in New York.
    start = (datetime.now(UTC) - timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    for name, currency in (("eur", "EUR"), ("usd", "USD"), ("usd2", "USD")):
        body = event(f"start-{name}", type="application_started", occurred_at=start.isoformat(), value=100,
                     currency=currency, contact={"external_id": name, "email": f"{name}@example.com"})
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    tick(app, start + timedelta(hours=24))
    for name, value in (("eur", 50), ("usd", 70), ("usd2", 30)):
        convert(client, acme, name, start + timedelta(hours=30), value)
    sign_in(client, acme.key)
    text = client.get("/dashboard").get_data(as_text=True)
    tile = re.search(r'id="tile-revenue">(.*?)</strong>', text).group(1)
    assert re.findall(r'class="amount">([^<]+)<', tile) == ["50.00 EUR", "100.00 USD"]
    detected = (start + timedelta(hours=24)).astimezone(ZoneInfo("America/New_York")).date()
    assert detected == start.date()
    charts = json.loads(re.search(r'<script type="application/json" id="charts">(.*?)</script>', text, re.S).group(1))
    dropped = charts["over_time"]["data"][0]
    assert dict(zip(dropped["x"], dropped["y"], strict=True))[detected.isoformat()] == 3
    assert "America/New_York" in charts["over_time"]["layout"]["xaxis"]["title"]["text"]
    # The revenue over time: one line per currency, never a sum across them.
    lines = {line["name"]: dict(zip(line["x"], line["y"], strict=True)) for line in charts["over_time"]["data"][2:]}
    assert {name: float(days[detected.isoformat()]) for name, days in lines.items()} == {
        "Revenue recovered (EUR)": 50.0, "Revenue recovered (USD)": 100.0}
    inside = client.get(f"/dashboard?from={detected}&to={detected}").get_data(as_text=True)
    assert 'id="tile-dropoffs">3<' in inside
    before = client.get(f"/dashboard?from={detected - timedelta(days=5)}&to={detected - timedelta(days=1)}")
    assert 'id="tile-dropoffs">0<' in before.get_data(as_text=True)
    bad = client.get(f"/dashboard?from={detected}")
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"] == "to"
    backwards = client.get(f"/dashboard?from={detected}&to={detected - timedelta(days=1)}")
    assert backwards.status_code == 422


def test_a_flow_without_a_holdout_says_so_plainly(app, client, acme):
    from tests.support.journeys import DANA

    setup_sales(client, acme)  # nobody held out
    abandon(app, client, acme, DANA, at=datetime.now(UTC) - timedelta(days=3))
    sign_in(client, acme.key)
    text = client.get("/dashboard").get_data(as_text=True)
    assert "No flow held anyone out in this period" in text  # no chart
    assert "No holdout: nobody was held out of this flow." in text and "<td>no holdout</td>" in text
