"""A list bound when a statement runs: the same rows on every backend, one statement text for any length."""

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy import event as sqlalchemy_event

from reengage.models import Contact
from reengage.platform import db
from reengage.platform.listed import one_of, one_of_within

contacts = Contact.__table__
LONGEST = "z" * contacts.c.external_id.type.length


def test_a_bound_list_picks_the_same_rows_in_one_statement_text_for_any_length(app, acme):
    with app.app_context():
        engine = db.engine()
        with engine.begin() as connection:
            ids = list(connection.scalars(insert(contacts).returning(contacts.c.id), [
                {"account_id": acme.id, "external_id": f"u{n}", "properties": {}, "consent": {}, "engagement": 0}
                for n in range(5)] + [{"account_id": acme.id, "external_id": LONGEST, "properties": {}, "consent": {},
                                       "engagement": 0}]))
        sent: list[str] = []

        def note(_connection, _cursor, statement: str, *_rest) -> None:
            if "FROM contacts" in statement:
                sent.append(statement)

        sqlalchemy_event.listen(engine, "before_cursor_execute", note)
        statement = (select(contacts.c.external_id)
                     .where(contacts.c.account_id == acme.id, one_of(contacts.c.id, "ids"),
                            one_of(contacts.c.external_id, "names"))
                     .order_by(contacts.c.external_id))
        with engine.connect() as connection:
            def chosen(picked: list[int], names: list[str]) -> list[str]:
                return list(connection.scalars(statement, {"ids": picked, "names": names}))

            assert chosen(ids, ["u0", "u2", "u9"]) == ["u0", "u2"]
            assert chosen(ids[3:], ["u1", "u3", "u4"]) == ["u3", "u4"]
            assert chosen([], ["u0"]) == []
            assert chosen(ids, []) == []
            assert chosen(ids, [LONGEST]) == [LONGEST]
            assert chosen(ids, [LONGEST + "y"]) == []  # longer than the column holds: never cut down to match
        assert len(set(sent)) == 1  # one text for every length
        assert ("= ANY (" if engine.dialect.name == "postgresql" else "IN (SELECT value FROM json_each(") in sent[0]


def test_a_list_within_an_account_picks_its_rows_and_no_other_accounts(app, acme, globex):
    with app.app_context():
        engine = db.engine()
        with engine.begin() as connection:
            connection.execute(insert(contacts), [
                {"account_id": account, "external_id": name, "properties": {}, "consent": {}, "engagement": 0}
                for account in (acme.id, globex.id) for name in ("u1", "u2", LONGEST)])
        statement = (select(contacts.c.account_id, contacts.c.external_id)
                     .where(one_of_within(contacts.c.account_id, "account", contacts.c.external_id, "names"))
                     .order_by(contacts.c.external_id))
        with engine.connect() as connection:
            def chosen(account: int, names: list[str]) -> list[tuple[int, str]]:
                return [tuple(row) for row in connection.execute(statement, {"account": account, "names": names})]

            assert chosen(acme.id, ["u2", "u9", "u1"]) == [(acme.id, "u1"), (acme.id, "u2")]
            assert chosen(globex.id, ["u2", LONGEST]) == [(globex.id, "u2"), (globex.id, LONGEST)]
            assert chosen(acme.id, []) == []
            assert chosen(acme.id, [LONGEST + "y"]) == []


def test_a_new_accounts_rows_are_looked_up_in_the_unique_index_before_its_statistics_are_gathered(app, acme, globex):
    """On PostgreSQL, statistics gathered before an account had rows took it for empty: `account_id = :a AND key =
    ANY(:keys)` was planned as a read of every row of the account (another index on it) tested against each key."""
    with app.app_context():
        engine = db.engine()
        if engine.dialect.name != "postgresql":
            pytest.skip("SQLite plans a bound list through the unique index (json_each) whatever it knows")
        with engine.begin() as connection:
            rows = [{"account_id": acme.id, "external_id": f"old-{n}", "properties": {}, "consent": {},
                     "engagement": 0} for n in range(20_000)]
            connection.execute(insert(contacts), rows)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE contacts"))
        with engine.begin() as connection:
            connection.execute(insert(contacts), [{**row, "account_id": globex.id} for row in rows[:5_000]])
            new_style = select(contacts.c.id).where(
                one_of_within(contacts.c.account_id, "account", contacts.c.external_id, "names"))
            old_style = select(contacts.c.id).where(contacts.c.account_id == bindparam("account"),
                                                    one_of(contacts.c.external_id, "names"))
            params = {"account": globex.id, "names": [f"new-{n}" for n in range(500)]}

            def plan(statement) -> str:
                compiled = statement.compile(engine, compile_kwargs={"literal_binds": False})
                explained = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.construct_params(params))
                return "\n".join(line for (line,) in explained)

            assert "contacts_account_id_external_id_key" in plan(new_style)
            assert "Filter" not in plan(new_style)
            # What it replaced: the account's rows read through another index, each tested against the list.
            assert "contacts_account_id_external_id_key" not in plan(old_style)
