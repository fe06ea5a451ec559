"""Rollups: the figures metrics sum, per account, UTC day of detection and dropoff dimension (and message dimension).

Database triggers on `dropoffs` keep them (migration 0022): every insert, update or delete of a dropoff
takes its old figures out of its group and adds its new ones, by upsert increments in the same transaction,
so no write path can forget them and concurrent writers never overwrite one another. A dropoff counts
while it is neither a test nor retracted. Amounts are kept as whole units of their column's last decimal
(revenue in 1/10,000, cost in 1/1,000,000), so sums are exact on every backend.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, UTCDateTime

REVENUE_SCALE = 10_000
COST_SCALE = 1_000_000


class _DropoffGroup:
    """The key of a rollup row: an account's counted dropoffs detected on one UTC day, per dimension values (first
    among its table's columns, in this order, as the migrations create them)."""

    account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True,
                                            sort_order=-1)
    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)
    scenario: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=-1)
    stage: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=-1)
    rule_key: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=-1)
    # The dropoff's currency ('' for none): revenue is never added up across currencies.
    currency: Mapped[str] = mapped_column(String(3), primary_key=True, sort_order=-1)


class _SentFigures:
    """What a group's sent messages add up to."""

    messages_sent: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    clicked: Mapped[int] = mapped_column(Integer)
    machine_opened: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(BigInteger)


class DropoffRollup(_DropoffGroup, _SentFigures, Base):
    """The summed figures of one account's counted dropoffs detected on one UTC day, per dimension values."""

    __tablename__ = "dropoff_rollups"

    dropoffs: Mapped[int] = mapped_column(Integer)
    enrolled: Mapped[int] = mapped_column(Integer)
    recovered: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[int] = mapped_column(BigInteger)
    re_engaged: Mapped[int] = mapped_column(Integer)


class MessageRollup(_DropoffGroup, _SentFigures, Base):
    """The summed figures of the sent messages of one account's counted dropoffs detected on one UTC day, per the
    dropoff's dimension values and the message's, and the recoveries credited to those messages.

    Kept by database triggers on `messages`, `dropoffs` and `enrollments` (migration 0023), as the dropoff rollups
    are: a message counts once it went, for its enrollment's dropoff, while that dropoff counts.
    """

    __tablename__ = "message_rollups"

    # The flow by id (a flow's key is joined when read), the step and its phase, the channel, the variant ('').
    flow_id: Mapped[int] = mapped_column(Id, primary_key=True)
    step: Mapped[str] = mapped_column(String(120), primary_key=True)
    phase: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    variant: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Recoveries credited to these messages (reengage.outcomes.tally.credit) and their revenue.
    recovered: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[int] = mapped_column(BigInteger)


# The kind of the reach's rows by all four message dimensions at once.
ALL = "all"


class DropoffTouch(Base):
    """A counted dropoff's reach by one value of one message dimension (flow, phase, channel or variant), or by one
    combination of all four (`all`): how long after detection the first of its sent messages there went, and
    whether any there was opened or clicked.

    What a group by a message's dimension counts once per dropoff (the dropoffs reached, those re-engaged, the
    median time to the first touch) is read from these instead of from every message: one row per dropoff and group
    by one dimension; by more, a dropoff's rows of the kind `all` that pass (a dropoff's few: migration 0029).
    Database triggers keep them (migration 0023): a message sent, opened or clicked joins its dropoff's rows in
    place (0025, 0027, 0028); any other change of one of its messages, its enrollments or the dropoff rebuilds them
    from its few messages. A dropoff that does not count has none.
    """

    __tablename__ = "dropoff_touches"
    # Each group (one dimension's value, the others unset) in order of time to first touch, with what its counts
    # read; and the dropoff, by which rows of the kind `all` are taken together.
    __table_args__ = (Index("ix_dropoff_touches_group", "account_id", "dimension", "flow_id", "phase", "channel",
                            "variant", "first_touch_us", "engaged", "detected_at", "dropoff_id"),)

    dropoff_id: Mapped[int] = mapped_column(Id, ForeignKey("dropoffs.id", ondelete="CASCADE"), primary_key=True)
    # The kind of row: a message dimension's name, or `all`.
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    # The value in `dimension`'s own column (all four for `all`); the others hold 0 or ''. No variant is ''.
    flow_id: Mapped[int] = mapped_column(Id, primary_key=True)
    phase: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    variant: Mapped[str] = mapped_column(String(20), primary_key=True)
    # The dropoff's, to filter and group by.
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id", ondelete="CASCADE"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scenario: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(100))
    rule_key: Mapped[str] = mapped_column(String(100))
    first_touch_us: Mapped[int] = mapped_column(BigInteger)
    engaged: Mapped[int] = mapped_column(Integer)
