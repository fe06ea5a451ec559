"""The baselines intake is measured against: a bare Flask app, under the same gunicorn settings.

`GET /noop` answers at once; `POST /insert` does one SQLAlchemy Core INSERT of the posted JSON and
commits it (BARE_DATABASE_URL, SQLite tuned as the app tunes it). Served by bench/ingest.py as
`gunicorn -c gunicorn.conf.py bare:app`.
"""

import os

from flask import Flask, request
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, event, insert

metadata = MetaData()
rows = Table("bare_rows", metadata, Column("id", Integer, primary_key=True), Column("key", String(255)),
             Column("body", JSON))
url = os.environ["BARE_DATABASE_URL"]
engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
if url.startswith("sqlite"):
    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
metadata.create_all(engine)
INSERT = insert(rows)
app = Flask(__name__)
app.config.update(CLOCK_IN_PROCESS=False, REDIS_URL=None)


@app.get("/noop")
def noop() -> dict:
    """Nothing: the cost of Flask and gunicorn alone."""
    return {"ok": True}


@app.post("/insert")
def insert_one() -> dict:
    """One Core insert and its commit."""
    body = request.get_json()
    with engine.begin() as connection:
        connection.execute(INSERT, {"key": body["id"], "body": body})
    return {"id": body["id"], "status": "created"}
