"""The unsubscribe page as a browser meets it: it can never be framed by another site."""

from tests.channels.test_email import first_email
from tests.support.connections import connect


def unframeable(response) -> bool:
    return (response.headers.get("X-Frame-Options") == "DENY"
            and "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""))


def test_the_unsubscribe_page_cannot_be_framed(app, client, acme, sendgrid):
    connect(client, acme)
    path = first_email(app, client, acme)["content"]["unsubscribe_url"].removeprefix("http://localhost:8000")
    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True) and unframeable(page)
    done = client.post(path)
    assert done.status_code == 200 and unframeable(done)
    assert unframeable(client.get("/u/not-a-token"))
