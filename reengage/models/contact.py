"""Contacts: the people whose funnels Reengage watches."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reengage.models.identity import ContactIdentity
from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

# Channels a contact can give or withhold consent for.
CONSENT_CHANNELS = ("email", "sms", "whatsapp", "voice", "push")


class Contact(Base):
    """A person, matched by external id, else email, else phone, else an outside service's id (unique per account)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        UniqueConstraint("account_id", "email"),
        UniqueConstraint("account_id", "phone"),
        Index("ix_contacts_account_newest", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Stored lower-cased: matching by email is case-insensitive.
    email: Mapped[str | None] = mapped_column(String(320))
    # Stored in E.164.
    phone: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    consent: Mapped[dict[str, bool]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opens and clicks of our messages (and replies) raise it; the newest such moment is kept beside it.
    engagement: Mapped[int] = mapped_column(Integer, default=0)
    engaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Made by the console's "try it now": its dropoffs are marked as tests and kept out of metrics.
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Loaded with the contact (one more query for any number of contacts): matching and the API read them.
    identities: Mapped[list[ContactIdentity]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                             passive_deletes=True)

    @property
    def external_ids(self) -> dict[str, str]:
        """The contact's id in each outside service it is known to, by provider."""
        return {identity.provider: identity.external_id for identity in self.identities}

    def identity(self, provider: str) -> str | None:
        """The contact's id in `provider`, if known."""
        return self.external_ids.get(provider)

    def identify(self, provider: str, external_id: str) -> None:
        """Know the contact as `external_id` in `provider` (replacing the id it had there)."""
        for identity in self.identities:
            if identity.provider == provider:
                identity.external_id = external_id
                return
        self.identities.append(ContactIdentity(account_id=self.account_id, provider=provider, external_id=external_id))
