"""Creating accounts: a name, a first API key, and the default rules of the catalogue."""

from sqlalchemy.orm import Session

from reengage.detection import catalogue
from reengage.models import Account
from reengage.platform.auth import mint_key


def create(db_session: Session, name: str, key_label: str = "first key") -> tuple[Account, str]:
    """Create an account with its first key (returned once) and the default rules."""
    account = Account(name=name)
    db_session.add(account)
    _, key = mint_key(db_session, account, label=key_label)
    db_session.flush()
    catalogue.install(db_session, account.id)
    return account, key
