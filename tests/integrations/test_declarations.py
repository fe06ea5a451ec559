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


def test_every_units_outputs_describe_its_sample(app):
    with app.app_context():
        declared = declarations.declarations()
    kinds = ("string", "integer", "number", "boolean", "datetime", "dict", "list")

    def check(outputs: list[dict], sample: dict, where: str) -> None:
        assert set(sample) <= {output["key"] for output in outputs}, where
        for output in outputs:
            assert output["type"] in kinds, f"{where}.{output['key']}"
            value = sample.get(output["key"])
            if "fields" in output and isinstance(value, dict):
                check(output["fields"], value, f"{where}.{output['key']}")

    for kind in ("triggers", "actions", "searches"):
        for unit in declared[kind]:
            check(unit["outputs"], unit["sample"], unit["key"])
    assert {unit["key"]: unit["cursor"] for unit in declared["triggers"]}["message.due"] == "published_at"
