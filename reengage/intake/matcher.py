"""Matching contact inputs to contacts: by external id, else email, else phone, else an outside service's id.

The rules live here once; a subclass says how contacts are read and made (ORM objects, or rows
written with Core statements). Candidates are read through the unique indexes, one lookup per
kind of identifier given, never a scan of the account's contacts.
"""

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import CompoundSelect, Select, select, union

from reengage.intake.schemas import IDENTIFIERS
from reengage.models import Contact, ContactIdentity
from reengage.platform.errors import ApiError
from reengage.platform.listed import one_of_within

# Plain fields: a given value (or null) replaces the stored one.
FIELDS = ("first_name", "last_name", "timezone", "country")
# JSON fields: merged key by key; a null value removes the key.
MERGED = ("properties", "consent")
# Identifiers callers give that are a contact's id in an outside service (contact_identities), and that service.
IDENTITY_FIELDS = {"hubspot_id": "hubspot", "salesforce_id": "salesforce"}
COLUMNS = tuple(name for name in IDENTIFIERS if name not in IDENTITY_FIELDS)
contacts, identities = Contact.__table__, ContactIdentity.__table__


@functools.cache
def candidate_ids(names: tuple[str, ...]) -> Select[Any] | CompoundSelect[Any]:
    """The ids of an account's contacts that any given value of `names` names: one indexed lookup per name.

    Parameters: `account_id`, and one list per name. Built once per combination of names.
    """
    parts: list[Select[Any]] = []
    for name in names:
        if name in IDENTITY_FIELDS:
            parts.append(select(identities.c.contact_id).where(
                identities.c.provider == IDENTITY_FIELDS[name],
                one_of_within(identities.c.account_id, "account_id", identities.c.external_id, name)))
        else:
            parts.append(select(contacts.c.id).where(
                one_of_within(contacts.c.account_id, "account_id", contacts.c[name], name)))
    if len(parts) == 1:
        return parts[0]
    return union(*parts)


# A contact: an ORM Contact, or a row of intake's Core path (each has `identity` and `identify`).
C = TypeVar("C", bound=Any)


def identifier(contact: Any, name: str) -> str | None:
    """The contact's identifier `name` (a column, or its id in an outside service)."""
    if name in IDENTITY_FIELDS:
        return contact.identity(IDENTITY_FIELDS[name])
    return getattr(contact, name)


class Matcher(Generic[C]):
    """Resolves many contact inputs (of one or more accounts) in one transaction.

    `preload` reads every contact the inputs could match; `upsert` then matches and changes them
    in memory, and the subclass writes them.
    """

    def __init__(self) -> None:
        # (account id, identifier name, value) -> contact
        self.known: dict[tuple[int, str, str], C] = {}

    def load(self, account_id: int, names: tuple[str, ...], params: dict[str, Any]) -> Iterable[C]:
        """The contacts `candidate_ids(names)` finds with `params`."""
        raise NotImplementedError

    def new(self, account_id: int) -> C:
        """A contact to be created."""
        raise NotImplementedError

    def preload(self, inputs: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Read the stored contacts that any (account id, contact input) could match."""
        wanted: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for account_id, data in inputs:
            for name in IDENTIFIERS:
                value = data.get(name)
                if value and (account_id, name, value) not in self.known:
                    wanted[account_id][name].add(value)
        for account_id, by_name in wanted.items():
            names = tuple(name for name in IDENTIFIERS if by_name.get(name))
            params = {"account_id": account_id, **{name: sorted(by_name[name]) for name in names}}
            for contact in self.load(account_id, names, params):
                self._index(contact)

    def upsert(self, account_id: int, data: dict[str, Any], path: str = "contact") -> C:
        """The contact `data` identifies in `account_id`, created or updated with its fields."""
        contact = self._match(account_id, data, path)
        if contact is None:
            contact = self.new(account_id)
        self._apply(account_id, contact, data, path)
        return contact

    def _match(self, account_id: int, data: dict[str, Any], path: str) -> C | None:
        for rank, name in enumerate(IDENTIFIERS):
            value = data.get(name)
            contact = self.known.get((account_id, name, value)) if value else None
            if contact is None:
                continue
            # A weaker identifier matching a contact that a stronger one names differently is
            # someone else's: merging them would join two people.
            for stronger in IDENTIFIERS[:rank]:
                theirs = identifier(contact, stronger)
                if data.get(stronger) and theirs is not None and theirs != data[stronger]:
                    raise conflict(
                        _field(path, name),
                        f"{value!r} belongs to contact {contact.id}, whose {stronger} is {theirs!r}.",
                    )
            return contact
        return None

    def _apply(self, account_id: int, contact: C, data: dict[str, Any], path: str) -> None:
        for name in IDENTIFIERS:
            value = data.get(name)
            if not value or identifier(contact, name) == value:
                continue
            holder = self.known.get((account_id, name, value))
            if holder is not None and holder is not contact:
                raise conflict(_field(path, name), f"{value!r} already belongs to contact {holder.id}.")
            old = identifier(contact, name)
            if old is not None:
                self.known.pop((account_id, name, old), None)
            if name in IDENTITY_FIELDS:
                contact.identify(IDENTITY_FIELDS[name], value)
            else:
                setattr(contact, name, value)
            self.known[(account_id, name, value)] = contact
        for name in FIELDS:
            if name in data and getattr(contact, name) != data[name]:
                setattr(contact, name, data[name])
        for name in MERGED:
            if name in data:
                merged = {**getattr(contact, name), **data[name]}
                merged = {key: value for key, value in merged.items() if value is not None}
                if merged != getattr(contact, name):
                    setattr(contact, name, merged)

    def _index(self, contact: C) -> None:
        for name in IDENTIFIERS:
            value = identifier(contact, name)
            if value:
                self.known[(contact.account_id, name, value)] = contact


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def conflict(field: str, message: str) -> ApiError:
    """The 409 for an identifier that names another contact."""
    return ApiError(
        409, "contact_conflict", f"{field}: {message}", {"fields": [{"field": field, "message": message}]}
    )
