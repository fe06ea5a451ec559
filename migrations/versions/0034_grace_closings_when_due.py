"""Watches a rule with a grace ended without a dropoff are closed when they were due

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07

The clock ends a watch when it is due (its deadline plus the rule's `settle` grace), and whether an event arrives
late reads when the rule acted on a watch: a watch ended without a dropoff recorded its deadline, so an event that
happened within the grace and arrived after the clock was not taken as late. Such watches now record when they were
due; this moves those closed before. A goal closing a watch at its deadline's very moment cannot be told apart from
them: it moves too, which at most has a later event judged again (judging again finds the same verdicts).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE watches SET closed_at = due_at WHERE status = 'closed' AND closed_at = deadline "
               "AND due_at > deadline")


def downgrade() -> None:
    op.execute("UPDATE watches SET closed_at = deadline WHERE status = 'closed' AND closed_at = due_at "
               "AND due_at > deadline")
