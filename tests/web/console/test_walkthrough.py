"""A new account set up in Chromium through the console alone: sign-in, a first flow, a step edited with its
preview, a step added, a REST hook subscribed, "try it now" reaching the outbox and the timeline, a send window
moving a scheduled message, and another account seeing none of it. Every page passes axe-core and is photographed
at 1400 and 375 px."""

from datetime import datetime, timedelta

from reengage.jobs import clock
from tests.support.browser import audit


def test_a_new_account_reaches_a_first_message_through_the_console(app, served, browser, acme, globex, client):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    # A page still loading, or a preview replaced while it is read, is waited out rather than failing the walk.
    wait = WebDriverWait(browser, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))

    def find(css):
        return wait.until(lambda b: b.find_element(By.CSS_SELECTOR, css))

    def fill(css, text):
        field = find(css)
        field.clear()
        field.send_keys(text)

    def sign_in(tenant, name=None):
        browser.get(f"{served}/console")
        wait.until(lambda b: "/dashboard/sign-in?next=/console" in b.current_url)
        if name:
            audit(browser, name)
        fill("#api_key", tenant.key)
        find("form button[type=submit]").click()
        wait.until(lambda b: b.current_url.endswith("/console"))

    sign_in(acme, "sign-in")
    assert find("[data-step=flow]").get_attribute("class") == "todo"
    find("body").send_keys(Keys.TAB)  # the first stop of the keyboard skips to the page's content
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    audit(browser, "start")

    # A first flow, cloned from the sales template.
    find("nav a[href='/console/flows']").click()
    audit(browser, "flows")
    find("input[name=template][value=sales]").click()
    find("#clone button[type=submit], form[action='/console/flows'] button.primary").click()
    wait.until(lambda b: "/console/flows/" in b.current_url)
    flow_url = browser.current_url
    assert "Sales follow-up" in find("h1").text
    audit(browser, "flow")

    # Its first step: sent at once, with a new subject the preview shows before it is saved.
    find("#step-1-pick-up a").click()
    wait.until(lambda b: "/steps/1/pick-up" in b.current_url)
    audit(browser, "step")
    before = find("#preview-subject").text
    fill("#step-subject", "{{ contact.first_name or 'Hi' }}, one click and you are done")
    wait.until(lambda b: "one click and you are done" in b.find_element(By.ID, "preview-subject").text)
    assert before != find("#preview-subject").text and find("#preview-subject").text.startswith("Dana,")
    fill("#step-day", "0")
    fill("#step-time", "00:00")
    find("button[value=save]").click()
    wait.until(lambda b: "saved=1" in b.current_url)
    assert "Day 0, 00:00" in find("#step-1-pick-up").text

    # A step of its own in phase 2, named by a key of the account's choosing.
    find(f"a[href='/console/flows/{flow_url.rsplit('/', 1)[1]}/steps/2/new']").click()
    wait.until(lambda b: "/steps/2/new" in b.current_url)
    audit(browser, "step-new")
    fill("#step-key", "case-study")
    fill("#step-day", "4")
    fill("#step-subject", "How others finished")
    fill("#step-body", "Hi {{ contact.first_name or 'there' }}, here is how others got it done.")
    find("button[value=save]").click()
    wait.until(lambda b: "saved=1" in b.current_url)
    assert "Day 4, 09:00" in find("#step-2-case-study").text

    # A send window open all day, every day, so the first message goes now.
    find("nav a[href='/console/settings']").click()
    fill("#set-start", "00:00")
    fill("#set-end", "24:00")
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=window_days]"):
        if not box.is_selected():
            box.click()
    find("form button.primary").click()
    wait.until(lambda b: "saved=1" in b.current_url)
    audit(browser, "settings")
    for name in ("rules", "connections", "hooks"):
        find(f"nav a[href='/console/{name}']").click()
        wait.until(lambda b, name=name: b.current_url.endswith(f"/console/{name}"))
        audit(browser, name)

    # A REST hook subscribed from the console: its signing secret is shown this once.
    app.config.update(HOOK_ALLOWED_NETWORKS=("127.0.0.0/8",), HOOK_REQUIRE_HTTPS=False)
    Select(find("#hook-event")).select_by_value("contact.recovered")
    fill("#hook-target", f"{served}/nowhere")
    fill("#hook-label", "recoveries to the CRM")
    find("form[action='/console/hooks'] button").click()
    wait.until(lambda b: b.find_elements(By.ID, "hook-secret"))
    assert find("#hook-secret").text.startswith("whsec_") and "recoveries to the CRM" in browser.page_source
    audit(browser, "hooks-subscribed")

    # Try it now: one test contact through the abandoned-application rule (a missing email is said beside it first).
    find("nav a[href='/console']").click()
    find("form[action='/console/try'] button").click()
    wait.until(lambda b: b.find_elements(By.ID, "email-problem"))
    assert find("#try-email").get_attribute("aria-describedby") == "email-problem"
    audit(browser, "start-problems")
    Select(find("#try-rule")).select_by_value("application_abandoned")
    fill("#try-email", "tess@example.com")
    fill("#try-name", "Tess")
    find("form[action='/console/try'] button").click()
    wait.until(lambda b: "/console/contacts/" in b.current_url)
    contact_url = browser.current_url.split("?")[0]
    WebDriverWait(browser, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "tr[data-message] td.status")
        and b.find_element(By.CSS_SELECTOR, "tr[data-message] td.status").text == "sent")
    assert "test contact" in find("h1").text and "application_abandoned" in find("#dropoffs-title + article").text
    audit(browser, "contact")
    find("tr[data-message] a").click()
    wait.until(lambda b: "/console/outbox" in b.current_url)
    shown = find(".email-card.shown")
    assert "Tess, one click and you are done" in shown.text
    audit(browser, "outbox")
    find("nav a[href='/console/contacts']").click()
    audit(browser, "contacts")
    assert client.get("/v1/metrics", headers=acme.headers).json[0]["dropoffs"] == 0  # a test counts nowhere

    # A narrower send window: the next scheduled message moves when it comes due.
    browser.get(contact_url)
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-message]")
               if r.find_element(By.CSS_SELECTOR, "td.status").text == "scheduled" and "email" in r.text)
    message_id, due_before = row.get_attribute("data-message"), row.find_element(By.CSS_SELECTOR, "td.due").text
    due = datetime.fromisoformat(client.get(f"/v1/messages/{message_id}", headers=acme.headers).json["due_at"])
    opens = (due + timedelta(hours=2)).replace(minute=0)
    browser.get(f"{served}/console/settings")
    fill("#set-start", opens.strftime("%H:00") if opens.hour < 23 else "01:00")
    fill("#set-end", f"{opens.hour + 1:02d}:00" if opens.hour < 23 else "02:00")
    find("#set-end").send_keys(Keys.ENTER)  # the keyboard alone submits the form
    wait.until(lambda b: "saved=1" in b.current_url)
    clock.tick(app, at=due)
    browser.get(contact_url)
    row = find(f"tr[data-message='{message_id}']")
    assert row.find_element(By.CSS_SELECTOR, "td.due").text != due_before
    assert "window" in row.find_element(By.CSS_SELECTOR, "td.moved").text

    # The dashboard lists the test dropoff, counted in no figure, with a way back to the timeline.
    browser.get(f"{served}/dashboard")
    assert find("#tile-dropoffs").text == "0"
    find("#latest a").click()
    wait.until(lambda b: b.current_url.split("?")[0] == contact_url)
    browser.get(f"{served}/dashboard")
    audit(browser, "dashboard")

    # Another account sees none of it.
    find("form[action='/dashboard/sign-out'] button").click()
    wait.until(lambda b: "/dashboard/sign-in" in b.current_url)
    sign_in(globex)
    for path in ("/console/flows", "/console/contacts", "/console/outbox"):
        browser.get(f"{served}{path}")
        assert "tess@example.com" not in browser.page_source and 'id="flow-list"' not in browser.page_source
    browser.get(contact_url)
    assert find("h1").text == "Not found"
    browser.get(flow_url)
    assert "Sales follow-up" not in browser.page_source and find("h1").text == "Not found"
    audit(browser, "missing")
