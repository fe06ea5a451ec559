"""A list bound when a statement runs: the same rows on every backend, one statement text for any length."""

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import insert, select

from reengage.models import Contact
from reengage.platform import db
from reengage.platform.listed import one_of

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
