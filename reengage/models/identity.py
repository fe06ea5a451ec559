"""A contact's id in an outside service (a CRM's record id), one per provider."""

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id


class ContactIdentity(Base):
    """Contact `contact_id` is `external_id` in `provider` (unique per account and provider)."""

    __tablename__ = "contact_identities"
    __table_args__ = (
        UniqueConstraint("account_id", "provider", "external_id"),
        Index("ix_contact_identities_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
