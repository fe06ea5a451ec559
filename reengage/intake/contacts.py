"""Contacts as ORM objects: matched and upserted for the API's actions, found by reference."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from reengage.intake.matcher import IDENTITY_FIELDS, Matcher, candidate_ids
from reengage.intake.schemas import IDENTIFIERS
from reengage.models import Contact, ContactIdentity
from reengage.platform import db
from reengage.platform.errors import ApiError


def matching(account_id: int, name: str, value: str) -> ColumnElement[bool]:
    """The condition that a contact of the account has `value` as its identifier `name`."""
    if name in IDENTITY_FIELDS:
        return Contact.id.in_(select(ContactIdentity.contact_id).where(
            ContactIdentity.account_id == account_id, ContactIdentity.provider == IDENTITY_FIELDS[name],
            ContactIdentity.external_id == value))
    return getattr(Contact, name) == value


class ContactResolver(Matcher[Contact]):
    """Matches contact inputs to ORM contacts of the session; its flush writes them."""

    def __init__(self, db_session: Session):
        super().__init__()
        self.db_session = db_session

    def load(self, account_id: int, names: tuple[str, ...], params: dict[str, Any]) -> Iterable[Contact]:
        """The session's contacts that the given identifiers name."""
        return self.db_session.scalars(select(Contact).where(Contact.id.in_(candidate_ids(names))), params)

    def new(self, account_id: int) -> Contact:
        """A new contact, added to the session."""
        contact = Contact(account_id=account_id, properties={}, consent={})
        self.db_session.add(contact)
        return contact


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
