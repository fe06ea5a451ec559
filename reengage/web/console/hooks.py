"""REST hook subscriptions in the console: each with its latest deliveries and every attempt; remove one."""

from flask import abort, redirect, url_for
from sqlalchemy import select

from reengage import hooks as hook_store
from reengage.models import Hook, HookDelivery
from reengage.platform import db
from reengage.web.console.base import account, blp, page

SHOWN = 20


@blp.route("/hooks")
def hooks():
    """The account's subscriptions, live first, each with its newest deliveries (the API's GET /v1/hooks/...)."""
    account_id = account().id
    listed = db.session().scalars(select(Hook).where(Hook.account_id == account_id)
                                  .order_by(Hook.removed_at.is_not(None), Hook.id.desc())).all()
    deliveries = {hook.id: db.session().scalars(select(HookDelivery).where(HookDelivery.hook_id == hook.id)
                                                .order_by(HookDelivery.id.desc()).limit(SHOWN)).all()
                  for hook in listed}
    return page("hooks.html", hooks=listed, deliveries=deliveries)


@blp.route("/hooks/<int:hook_id>/remove", methods=["POST"])
def remove_hook(hook_id: int):
    """Unsubscribe (the API's DELETE /v1/hooks/{id}): what waits to be posted to it is cancelled."""
    with db.transaction():
        hook = db.session().scalar(select(Hook).where(Hook.id == hook_id, Hook.account_id == account().id))
        if hook is None:
            abort(404)
        hook_store.remove(hook, "unsubscribed", db.utcnow())
    return redirect(url_for("console.hooks"))
