"""Matching and upserting contacts: by external id, else email, else phone, else an outside service's id."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.orm import Session

from reengage.intake.schemas import IDENTIFIERS
from reengage.models import Contact, ContactIdentity
from reengage.platform import db
from reengage.platform.errors import ApiError

# Plain fields: a given value (or null) replaces the stored one.
FIELDS = ("first_name", "last_name", "timezone", "country")
# JSON fields: merged key by key; a null value removes the key.
MERGED = ("properties", "consent")
# Identifiers callers give that are a contact's id in an outside service (contact_identities), and that service.
IDENTITY_FIELDS = {"hubspot_id": "hubspot", "salesforce_id": "salesforce"}
COLUMNS = tuple(name for name in IDENTIFIERS if name not in IDENTITY_FIELDS)


# Built once (for every request): the contacts of one account that any given identifier names. Ids in
# outside services are looked up on their own: inside the OR they would keep the database from using the indexes.
CANDIDATES = select(Contact).where(
    Contact.account_id == bindparam("account_id"),
    or_(*(getattr(Contact, name).in_(bindparam(name, expanding=True)) for name in COLUMNS)),
)
IDENTIFIED = {
    name: select(Contact).join(ContactIdentity, ContactIdentity.contact_id == Contact.id).where(
        ContactIdentity.account_id == bindparam("account_id"), ContactIdentity.provider == provider,
        ContactIdentity.external_id.in_(bindparam("external_ids", expanding=True)))
    for name, provider in IDENTITY_FIELDS.items()
}


def matching(account_id: int, name: str, value: str) -> ColumnElement[bool]:
    """The condition that a contact of the account has `value` as its identifier `name`."""
    if name in IDENTITY_FIELDS:
        return Contact.id.in_(select(ContactIdentity.contact_id).where(
            ContactIdentity.account_id == account_id, ContactIdentity.provider == IDENTITY_FIELDS[name],
            ContactIdentity.external_id == value))
    return getattr(Contact, name) == value


def identifier(contact: Contact, name: str) -> str | None:
    """The contact's identifier `name` (a column, or its id in an outside service)."""
    if name in IDENTITY_FIELDS:
        return contact.identity(IDENTITY_FIELDS[name])
    return getattr(contact, name)


class ContactResolver:
    """Resolves many contact inputs (of one or more accounts) in one transaction.

    `preload` fetches every contact the inputs could match in one query (and one per kind of
    outside id given); `upsert` then matches and changes them in memory, and the session's
    flush writes them.
    """

    def __init__(self, db_session: Session):
        self.db_session = db_session
        # (account id, identifier name, value) -> contact
        self.known: dict[tuple[int, str, str], Contact] = {}

    def preload(self, inputs: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Fetch the stored contacts that any (account id, contact input) could match."""
        wanted: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for account_id, data in inputs:
            for name in IDENTIFIERS:
                value = data.get(name)
                if value and (account_id, name, value) not in self.known:
                    wanted[account_id][name].add(value)
        for account_id, by_name in wanted.items():
            found: list[Contact] = []
            if any(by_name[name] for name in COLUMNS):
                params = {"account_id": account_id, **{name: list(by_name[name]) for name in COLUMNS}}
                found += self.db_session.scalars(CANDIDATES, params)
            for name, statement in IDENTIFIED.items():
                if by_name[name]:
                    found += self.db_session.scalars(statement, {"account_id": account_id,
                                                                 "external_ids": list(by_name[name])})
            for contact in found:
                self._index(contact)

    def upsert(self, account_id: int, data: dict[str, Any], path: str = "contact") -> Contact:
        """The contact `data` identifies in `account_id`, created or updated with its fields."""
        contact = self._match(account_id, data, path)
        if contact is None:
            contact = Contact(account_id=account_id, properties={}, consent={})
            self.db_session.add(contact)
        self._apply(account_id, contact, data, path)
        return contact

    def _match(self, account_id: int, data: dict[str, Any], path: str) -> Contact | None:
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
                    raise _conflict(
                        _field(path, name),
                        f"{value!r} belongs to contact {contact.id}, whose {stronger} is {theirs!r}.",
                    )
            return contact
        return None

    def _apply(self, account_id: int, contact: Contact, data: dict[str, Any], path: str) -> None:
        for name in IDENTIFIERS:
            value = data.get(name)
            if not value or identifier(contact, name) == value:
                continue
            holder = self.known.get((account_id, name, value))
            if holder is not None and holder is not contact:
                raise _conflict(_field(path, name), f"{value!r} already belongs to contact {holder.id}.")
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

    def _index(self, contact: Contact) -> None:
        for name in IDENTIFIERS:
            value = identifier(contact, name)
            if value:
                self.known[(contact.account_id, name, value)] = contact


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _conflict(field: str, message: str) -> ApiError:
    return ApiError(
        409, "contact_conflict", f"{field}: {message}", {"fields": [{"field": field, "message": message}]}
    )


def find(db_session: Session, account_id: int, ref: dict[str, Any]) -> Contact:
    """The contact a ContactRefSchema names: by id, else by the strongest identifier given; 404 when none."""
    found = None
    if "contact_id" in ref:
        found = db_session.scalar(select(Contact).where(Contact.account_id == account_id,
                                                        Contact.id == ref["contact_id"]))
    else:
        for name in IDENTIFIERS:
            if name in ref and found is None:
                found = db_session.scalar(select(Contact).where(Contact.account_id == account_id,
                                                                matching(account_id, name, ref[name])))
    if found is None:
        raise ApiError(404, "not_found", "No such contact in this account.")
    return found


def upsert_one(account_id: int, data: dict[str, Any]) -> Contact:
    """Create or update one contact (matched as intake matches), in its own transaction."""

    def work() -> Contact:
        resolver = ContactResolver(db.session())
        resolver.preload([(account_id, data)])
        return resolver.upsert(account_id, data, path="")

    return db.retry_on_conflict(work)
