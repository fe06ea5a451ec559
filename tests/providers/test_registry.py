"""Every registered provider's client keeps the interface of its kind."""

import pytest

from reengage.links.crm import CRM
from reengage.links.email import EmailSender
from reengage.links.provider import Provider
from reengage.links.status import ServiceStatus
from reengage.providers.registry import PROVIDERS
from tests.providers import fake_crm

INTERFACES = {"crm": CRM, "email": EmailSender, "status": ServiceStatus}


@pytest.mark.parametrize("provider", [*PROVIDERS.values(), fake_crm.PROVIDER], ids=lambda provider: provider.key)
def test_each_client_has_every_method_of_its_kinds_interface(provider):
    interface = INTERFACES[provider.kind]
    wanted = [name for name, value in vars(interface).items() if callable(value) and not name.startswith("_")]
    assert wanted and [name for name in wanted if not callable(getattr(provider.client, name, None))] == []


def test_a_provider_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of crm, email, status"):
        Provider("sms", "sms", "SMS", (), "", object, object, None, {}, object)
