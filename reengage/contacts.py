"""Matching and upserting contacts: by external id, else email, else phone, else HubSpot id."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reengage.errors import ApiError
from reengage.models import Contact
from reengage.schemas.contact import IDENTIFIERS

# Plain fields: a given value (or null) replaces the stored one.
FIELDS = ("first_name", "last_name", "timezone", "country")
# JSON fields: merged key by key; a null value removes the key.
MERGED = ("properties", "consent")
# SQLite's default limit on bound variables is far above this; PostgreSQL has none to speak of.
LOOKUP_CHUNK = 900


class ContactResolver:
    """Resolves many contact inputs for one account in one transaction, with batched lookups."""

    def __init__(self, db_session: Session, account_id: int):
        self.db_session = db_session
        self.account_id = account_id
        self.by: dict[str, dict[str, Contact]] = {name: {} for name in IDENTIFIERS}

    def preload(self, inputs: Iterable[dict[str, Any]]) -> None:
        """Fetch every stored contact that any of `inputs` could match, a few queries in all."""
        wanted: dict[str, set[str]] = {name: set() for name in IDENTIFIERS}
        for data in inputs:
            for name in IDENTIFIERS:
                if data.get(name):
                    wanted[name].add(data[name])
        for name, values in wanted.items():
            values -= self.by[name].keys()
            column = getattr(Contact, name)
            ordered = sorted(values)
            for start in range(0, len(ordered), LOOKUP_CHUNK):
                chunk = ordered[start:start + LOOKUP_CHUNK]
                query = select(Contact).where(Contact.account_id == self.account_id, column.in_(chunk))
                for contact in self.db_session.scalars(query):
                    self._index(contact)

    def upsert(self, data: dict[str, Any], path: str = "contact") -> Contact:
        """The contact `data` identifies, created or updated with its fields."""
        contact = self._match(data, path)
        if contact is None:
            contact = Contact(account_id=self.account_id, properties={}, consent={})
            self.db_session.add(contact)
        self._apply(contact, data, path)
        return contact

    def _match(self, data: dict[str, Any], path: str) -> Contact | None:
        for rank, name in enumerate(IDENTIFIERS):
            value = data.get(name)
            contact = self.by[name].get(value) if value else None
            if contact is None:
                continue
            # A weaker identifier matching a contact that a stronger one names differently is
            # someone else's: merging them would join two people.
            for stronger in IDENTIFIERS[:rank]:
                theirs = getattr(contact, stronger)
                if data.get(stronger) and theirs is not None and theirs != data[stronger]:
                    raise _conflict(
                        _field(path, name),
                        f"{value!r} belongs to contact {contact.id}, whose {stronger} is {theirs!r}.",
                    )
            return contact
        return None

    def _apply(self, contact: Contact, data: dict[str, Any], path: str) -> None:
        for name in IDENTIFIERS:
            value = data.get(name)
            if not value or getattr(contact, name) == value:
                continue
            holder = self.by[name].get(value)
            if holder is not None and holder is not contact:
                raise _conflict(_field(path, name), f"{value!r} already belongs to contact {holder.id}.")
            old = getattr(contact, name)
            if old is not None:
                self.by[name].pop(old, None)
            setattr(contact, name, value)
            self.by[name][value] = contact
        for name in FIELDS:
            if name in data and getattr(contact, name) != data[name]:
                setattr(contact, name, data[name])
        for name in MERGED:
            if name in data:
                merged = {**getattr(contact, name), **data[name]}
                merged = {key: value for key, value in merged.items() if value is not None}
                if merged != getattr(contact, name):
                    setattr(contact, name, merged)

    def _index(self, contact: Contact) -> None:
        for name in IDENTIFIERS:
            value = getattr(contact, name)
            if value:
                self.by[name][value] = contact


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _conflict(field: str, message: str) -> ApiError:
    return ApiError(
        409, "contact_conflict", f"{field}: {message}", {"fields": [{"field": field, "message": message}]}
    )
