"""The account's settings: time zone, holidays, send window, frequency cap, cooldown, app URL."""

from reengage.platform import db
from reengage.platform.auth import authenticate
from reengage.platform.blueprint import Blueprint
from reengage.settings import AccountSettingsSchema, effective
from reengage.web.routes.common import caller_account

blp = Blueprint("settings", __name__, url_prefix="/v1", description="How and when this account's messages go.")
blp.before_request(authenticate)


@blp.route("/settings")
@blp.response(200, AccountSettingsSchema)
def get_settings():
    """The settings in effect (defaults where the account set nothing)."""
    return effective(caller_account().settings, None)


@blp.route("/settings", methods=["PATCH"])
@blp.arguments(AccountSettingsSchema)
@blp.response(200, AccountSettingsSchema)
def patch_settings(changes):
    """Change settings; each field given replaces the stored one (a nested object whole). Future schedules use them."""
    with db.transaction():
        account = caller_account()
        account.settings = {**(account.settings or {}), **changes}
        return effective(account.settings, None)

