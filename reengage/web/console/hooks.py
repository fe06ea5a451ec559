"""REST hook subscriptions in the console: subscribe one, see its latest deliveries and every attempt, remove one."""

from flask import abort, redirect, request, url_for
from sqlalchemy import select

from connectors.errors import ConnectorError
from reengage import hooks as hook_store
from reengage.models import Hook, HookDelivery
from reengage.platform import db
from reengage.platform.errors import field_error
from reengage.web.console.base import account, attempt, blp, page
from reengage.web.subscriptions import HookInputSchema
from triggers import TRIGGERS

SHOWN = 20


@blp.route("/hooks")
def hooks(problems: dict | None = None, status: int = 200, secret: str | None = None):
    """The account's subscriptions, live first, each with its newest deliveries (the API's GET /v1/hooks/...)."""
    account_id = account().id
    listed = db.session().scalars(select(Hook).where(Hook.account_id == account_id)
                                  .order_by(Hook.removed_at.is_not(None), Hook.id.desc())).all()
    deliveries = {hook.id: db.session().scalars(select(HookDelivery).where(HookDelivery.hook_id == hook.id)
                                                .order_by(HookDelivery.id.desc()).limit(SHOWN)).all()
                  for hook in listed}
    form = request.form if problems else {}
    return page("hooks.html", hooks=listed, deliveries=deliveries, events=sorted(TRIGGERS), problems=problems or {},
                form=form, secret=secret), status


@blp.route("/hooks", methods=["POST"])
def subscribe():
    """Subscribe a target (the API's POST /v1/hooks, its schema and address checks); its secret is shown once."""
    given = {name: request.form[name] for name in ("event", "target_url", "label") if request.form.get(name)}
    lines = [line.strip() for line in request.form.get("filters", "").splitlines() if line.strip()]

    def work() -> tuple[Hook, str]:
        filters = {}
        for line in lines:
            name, equals, value = line.partition("=")
            if not equals or not name.strip():
                raise field_error("filters", f"Write each filter as name=value, not {line[:60]!r}.")
            filters[name.strip()] = value.strip()
        data = HookInputSchema().load({**given, "filters": filters})
        try:
            hook_store.target_check(data["target_url"])
        except ConnectorError as error:
            raise field_error("target_url", f"Refused: it {error.message}.") from None
        with db.transaction():
            return hook_store.subscribe(account().id, data["event"], data["target_url"], data["filters"],
                                        data.get("label"))

    made, problems = attempt(work)
    if problems:
        return hooks(problems, 422)
    return hooks(secret=made[1], status=201)


@blp.route("/hooks/<int:hook_id>/remove", methods=["POST"])
def remove_hook(hook_id: int):
    """Unsubscribe (the API's DELETE /v1/hooks/{id}): what waits to be posted to it is cancelled."""
    with db.transaction():
        hook = db.session().scalar(select(Hook).where(Hook.id == hook_id, Hook.account_id == account().id))
        if hook is None:
            abort(404)
        hook_store.remove(hook, "unsubscribed", db.utcnow())
    return redirect(url_for("console.hooks"))
