"""The shared samples: standard library only, and each in the shape the API answers with."""

import ast
import sys
from pathlib import Path

from reengage import samples
from reengage.models import Contact
from reengage.schemas.contact import ContactSchema
from reengage.schemas.dropoff import DropoffSchema
from reengage.sending import personalise
from searches import SEARCHES
from triggers import TRIGGERS


def test_samples_import_nothing_but_the_standard_library():
    tree = ast.parse(Path(samples.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= sys.stdlib_module_names


def test_the_sample_contact_and_dropoff_have_every_field_the_api_answers_with():
    assert set(samples.CONTACT) == set(ContactSchema().fields)
    assert set(samples.DEAL_CONTACT) == set(ContactSchema().fields)
    assert set(samples.DROPOFF) == set(DropoffSchema().fields)


def test_every_contact_in_a_trigger_or_search_sample_is_the_sample_contact_shape():
    shown = [t.sample["contact"] for t in TRIGGERS.values() if "contact" in t.sample]
    shown += [item for s in SEARCHES.values() for item in s.sample if "first_name" in item]
    assert shown and all(list(contact) == list(samples.CONTACT) for contact in shown)


def test_the_template_context_has_what_a_template_sees():
    contact = Contact(id=1, first_name="Dana", properties={})
    seen = personalise.context(contact, None, None, "Acme", "", "")
    assert set(samples.TEMPLATE_CONTEXT) == set(seen)
    assert set(samples.TEMPLATE_CONTEXT["contact"]) <= set(seen["contact"])
    assert samples.TEMPLATE_CONTEXTS[0] is samples.TEMPLATE_CONTEXT
