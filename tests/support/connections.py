"""Credentials for the fake SendGrid and HubSpot, and connecting an account to them."""


SENDGRID = {"api_key": "SG.test-key.abcdefghij", "from_email": "Hello@Acme.com", "from_name": "Acme"}


HUBSPOT = {"access_token": "pat-na1-test-token", "client_secret": "hubspot-client-secret", "portal_id": 62515}


def connect(client, tenant, **settings):
    response = client.put("/v1/connections/sendgrid", json={**SENDGRID, **settings}, headers=tenant.headers)
    assert response.status_code == 200, response.json
