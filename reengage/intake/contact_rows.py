"""Contacts for event intake, read and written with Core statements: no ORM objects on the hot path.

New contacts go in one INSERT ... ON CONFLICT DO NOTHING, changed ones in one UPDATE, in a fixed
order (inserts before the events, updates after them, each sorted), so concurrent transactions and
processing cannot deadlock on each other's rows. A contact that a
concurrent transaction created first is a `ContactRace`: the caller retries, and then sees it.
"""

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update

from reengage.intake.matcher import COLUMNS, FIELDS, IDENTITY_FIELDS, MERGED, Matcher, candidate_ids
from reengage.models import Contact, ContactIdentity
from reengage.platform import db
from reengage.platform.listed import one_of

contacts, identities = Contact.__table__, ContactIdentity.__table__
# What matching may change on a contact: each is written whole for a changed contact.
WRITABLE = (*COLUMNS, *FIELDS, *MERGED)
READ = select(*(contacts.c[name] for name in ("id", "account_id", *WRITABLE)))
IDENTITIES = select(identities.c.contact_id, identities.c.provider, identities.c.external_id).where(
    one_of(identities.c.contact_id, "ids"))
UPDATE = (update(contacts).where(contacts.c.id == bindparam("contact_id"))
          .values({name: bindparam(name) for name in (*WRITABLE, "updated_at")}))
RENAME_IDENTITY = (update(identities).where(identities.c.contact_id == bindparam("contact_id"),
                                            identities.c.provider == bindparam("the_provider"))
                   .values(external_id=bindparam("the_external_id")))


@functools.cache
def _read(names: tuple[str, ...]) -> Select[Any]:
    """The stored contacts any given value of `names` names; built once per combination of names."""
    return READ.where(contacts.c.id.in_(candidate_ids(names)))


class ContactRace(Exception):
    """A concurrent transaction wrote a contact this one was about to create: retry to see it."""


class ContactRow:
    """One contact as intake matches it: its column values, its outside ids, and what changed."""

    id: int | None
    account_id: int

    def __init__(self, values: dict[str, Any], known_ids: dict[str, str]):
        self.__dict__.update(values)
        self.known_ids = known_ids
        self.changed = False
        self.new_ids: dict[str, str] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        if name in WRITABLE:
            self.__dict__["changed"] = True
        super().__setattr__(name, value)

    def identity(self, provider: str) -> str | None:
        """The contact's id in `provider`, if known."""
        return self.new_ids.get(provider) or self.known_ids.get(provider)

    def identify(self, provider: str, external_id: str) -> None:
        """Know the contact as `external_id` in `provider`."""
        self.new_ids[provider] = external_id


class ContactRows(Matcher[ContactRow]):
    """Matches contact inputs to rows; `write` stores the new and changed ones."""

    def __init__(self, connection: Connection):
        super().__init__()
        self.connection = connection
        self.created: list[ContactRow] = []
        self.created_ids: set[int] = set()

    def load(self, account_id: int, names: tuple[str, ...], params: dict[str, Any]) -> Iterable[ContactRow]:
        """The stored contacts the given identifiers name (with their outside ids, when one was given)."""
        found = [ContactRow(row._asdict(), {}) for row in self.connection.execute(_read(names), params)]
        if found and any(name in IDENTITY_FIELDS for name in names):
            by_id = {row.id: row for row in found}
            for contact_id, provider, external_id in self.connection.execute(IDENTITIES, {"ids": list(by_id)}):
                by_id[contact_id].known_ids[provider] = external_id
        return found

    def new(self, account_id: int) -> ContactRow:
        """A contact to be created by `write`."""
        row = ContactRow({"id": None, "account_id": account_id, **dict.fromkeys(COLUMNS),
                          **dict.fromkeys(FIELDS), "properties": {}, "consent": {}}, {})
        self.created.append(row)
        self.created_ids.add(id(row))
        return row

    def insert(self) -> None:
        """Insert the new contacts and outside ids; raise ContactRace when one was written meanwhile.

        Call before `update`: a transaction that only inserted can wait for a concurrent one that
        clashes (on a contact, or an event key) without being in a cycle, as it holds no stored row.
        """
        self._insert(db.utcnow())
        fresh, _ = self._identities()
        if fresh:
            statement = db.insert_new(identities).on_conflict_do_nothing().returning(identities.c.id)
            if len(self.connection.execute(statement, fresh).all()) != len(fresh):
                raise ContactRace("an outside id was given to another contact meanwhile")

    def update(self) -> None:
        """Write the changes to stored contacts, by id (the order processing updates them in)."""
        now = db.utcnow()
        changed = sorted((row for row in self._rows() if row.changed and id(row) not in self.created_ids),
                         key=lambda row: row.id or 0)
        if changed:
            self.connection.execute(UPDATE, [
                {"contact_id": row.id, "updated_at": now, **{name: getattr(row, name) for name in WRITABLE}}
                for row in changed])
        _, renames = self._identities()
        if renames:
            self.connection.execute(RENAME_IDENTITY, renames)

    def _rows(self) -> list[ContactRow]:
        return list({id(row): row for row in self.known.values()}.values())

    def _insert(self, now: Any) -> None:
        keyed = sorted((row for row in self.created if any(getattr(row, name) for name in COLUMNS)),
                       key=lambda row: tuple(getattr(row, name) or "" for name in COLUMNS))
        if keyed:
            statement = db.insert_new(contacts).on_conflict_do_nothing().returning(
                contacts.c.id, *(contacts.c[name] for name in COLUMNS))
            params = [self._values(row, now) for row in keyed]
            by_key = {}
            for inserted in self.connection.execute(statement, params):
                by_key[next((name, inserted._mapping[name]) for name in COLUMNS if inserted._mapping[name])] = \
                    inserted.id
            if len(by_key) != len(keyed):
                raise ContactRace(f"{len(keyed) - len(by_key)} of {len(keyed)} new contacts were created meanwhile")
            for row in keyed:
                row.__dict__["id"] = by_key[next((name, getattr(row, name)) for name in COLUMNS if getattr(row, name))]
        for row in self.created:
            if row.id is None:  # known by an outside id alone: nothing of the contact itself can clash
                row.__dict__["id"] = self.connection.execute(
                    contacts.insert().returning(contacts.c.id), self._values(row, now)).scalar_one()

    def _identities(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The outside ids to insert, and those replacing a contact's old id in the same service."""
        fresh, renames = [], []
        for row in sorted((row for row in self._rows() if row.new_ids), key=lambda row: row.id or 0):
            for provider, external_id in row.new_ids.items():
                if provider in row.known_ids:
                    renames.append({"contact_id": row.id, "the_provider": provider, "the_external_id": external_id})
                else:
                    fresh.append({"account_id": row.account_id, "contact_id": row.id, "provider": provider,
                                  "external_id": external_id})
        return fresh, renames

    @staticmethod
    def _values(row: ContactRow, now: Any) -> dict[str, Any]:
        return {"account_id": row.account_id, "created_at": now, "updated_at": now, "engagement": 0,
                **{name: getattr(row, name) for name in WRITABLE}}
