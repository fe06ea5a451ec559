"""Clicks and conversions for results tests, and the chi-square p-value they are checked against."""

import math
from datetime import timedelta

from tests.support import event


def chi_square_p(a_hits, a_total, b_hits, b_total):
    """The p-value of Pearson's chi-square (1 degree of freedom) of the 2x2 table, without continuity correction."""
    table = [[a_hits, a_total - a_hits], [b_hits, b_total - b_hits]]
    total = a_total + b_total
    columns = [a_hits + b_hits, total - a_hits - b_hits]
    chi2 = sum((table[r][c] - (a_total, b_total)[r] * columns[c] / total) ** 2 / ((a_total, b_total)[r] * columns[c]
                                                                               / total)
               for r in range(2) for c in range(2))
    return math.erfc(math.sqrt(chi2 / 2))


def click(client, tenant, name, message):
    body = event(f"click-{name}", type="email.clicked", contact={"external_id": name},
                 occurred_at=(message["sent_at"] + timedelta(hours=1)).isoformat(),
                 properties={"message_id": message["id"]})
    assert client.post("/v1/events", json=body, headers=tenant.headers).status_code == 200


def convert(client, tenant, name, at, value, currency=None):
    response = client.post("/v1/actions/record-conversion", json={
        "external_id": name, "value": value, "occurred_at": at.isoformat(),
        **({"currency": currency} if currency else {})}, headers=tenant.headers)
    assert response.status_code == 200, response.json
