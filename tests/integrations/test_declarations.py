"""The apps are built from integrations/zapier/declarations.json: it must say what the code does."""

import json
from pathlib import Path

from reengage.web import declarations

FILE = Path(__file__).resolve().parents[2] / "integrations" / "zapier" / "declarations.json"


def test_the_declarations_file_matches_the_code(app):
    with app.app_context():
        current = json.loads(json.dumps(declarations.declarations()))
    assert json.loads(FILE.read_text()) == current, "run: flask integrations export"


def test_every_unit_has_a_sample_and_every_field_a_type(app):
    with app.app_context():
        declared = declarations.declarations()
    for kind in ("triggers", "actions", "searches"):
        for unit in declared[kind]:
            assert unit["sample"], unit["key"]
            form = unit["filters"] if kind == "triggers" else unit["fields"]
            assert all(field["type"] in ("string", "integer", "number", "boolean", "datetime", "dict", "list")
                       for field in form), unit["key"]
