"""openapi.yaml is produced from the code's own schemas; this fails when the two drift."""

import re
from pathlib import Path

import yaml
from openapi_spec_validator import validate

SPEC_FILE = Path(__file__).resolve().parent.parent / "openapi.yaml"
REGENERATE = "run: flask openapi write -f yaml openapi.yaml"


def test_openapi_file_matches_the_code(app):
    generated = yaml.safe_load(app.extensions["api"].spec.to_yaml())
    committed = yaml.safe_load(SPEC_FILE.read_text())
    assert committed == generated, f"openapi.yaml is out of date; {REGENERATE}"


def test_openapi_file_is_valid_openapi():
    validate(yaml.safe_load(SPEC_FILE.read_text()))


def test_server_serves_the_spec(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == yaml.safe_load(SPEC_FILE.read_text())


def test_every_route_is_described(app):
    paths = yaml.safe_load(SPEC_FILE.read_text())["paths"]
    for rule in app.url_map.iter_rules():
        # Pages for people (unsubscribe, the dashboard, the console) are not part of the API.
        if rule.endpoint in ("static", "api-docs.openapi_json") or rule.endpoint.startswith(("unsubscribe.",
                                                                                             "dashboard.", "console.")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, f"{rule.rule} is not in openapi.yaml"
