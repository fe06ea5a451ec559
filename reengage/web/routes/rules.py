"""Dropoff rules of an account, and the scenario catalogue (for dropdowns)."""

from marshmallow import ValidationError

from reengage.detection import catalogue
from reengage.detection.detectors import DETECTORS
from reengage.models import Rule
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError, field_error, invalid
from reengage.schemas.rule import RuleInputSchema, RulePatchSchema, RuleSchema, ScenarioSchema, load_params
from reengage.web.routes.common import owned_or_404, scoped

blp = Blueprint("rules", __name__, url_prefix="/v1", description="How dropoffs are detected.")
blp.before_request(authenticate)


@blp.route("/rules")
@blp.response(200, RuleSchema(many=True))
def list_rules():
    """This account's rules, by key."""
    return db.session().scalars(scoped(Rule).order_by(Rule.key)).all()


@blp.route("/rules", methods=["POST"])
@blp.arguments(RuleInputSchema)
@blp.response(201, RuleSchema)
def create_rule(data):
    """Add a rule; its key must be new to this account."""
    scenario = catalogue.BY_KEY.get(data["scenario"])
    if "stage" not in data and scenario is None:
        raise field_error("stage", "Required for a scenario that is not in the catalogue.")

    def work() -> Rule:
        db_session = db.session()
        if db_session.scalar(scoped(Rule, Rule.key == data["key"])) is not None:
            raise ApiError(409, "conflict", f"A rule with key {data['key']!r} exists; PATCH it instead.",
                           {"fields": [{"field": "key", "message": "Already used in this account."}]})
        rule = Rule(account_id=account_id(), key=data["key"], scenario=data["scenario"], kind=data["kind"],
                    name=data.get("name") or (scenario.name if scenario else data["key"]),
                    stage=data.get("stage") or scenario.stage, params=data["params"], enabled=data["enabled"])
        db_session.add(rule)
        return rule

    return db.retry_on_conflict(work)


@blp.route("/rules/<key>")
@blp.response(200, RuleSchema)
def get_rule(key):
    """One rule."""
    return owned_or_404(Rule, key, Rule.key)


@blp.route("/rules/<key>", methods=["PATCH"])
@blp.arguments(RulePatchSchema)
@blp.response(200, RuleSchema)
def patch_rule(changes, key):
    """Change a rule: its name, stage, enabled flag, or params (merged, then checked whole)."""
    return change(key, changes)


def change(key: str, changes: dict) -> Rule:
    """Apply checked `changes` to the caller's rule `key`: params merged with the stored ones, then checked whole."""
    with db.transaction():
        rule = owned_or_404(Rule, key, Rule.key)
        if "params" in changes:
            try:
                rule.params = load_params(rule.kind, {**rule.params, **changes.pop("params")})
            except ValidationError as error:
                raise invalid(error.messages) from None
        for name, value in changes.items():
            setattr(rule, name, value)
    return rule


@blp.route("/rules/<key>", methods=["DELETE"])
@blp.response(204)
def delete_rule(key):
    """Delete a rule and its open watches; its dropoffs stay, naming the rule by key."""
    with db.transaction() as db_session:
        db_session.delete(owned_or_404(Rule, key, Rule.key))


@blp.route("/scenarios")
@blp.response(200, ScenarioSchema(many=True))
def list_scenarios():
    """The catalogue, then this account's own scenarios, each with the account's rules for it."""
    rules: dict[str, list[str]] = {}
    custom: dict[str, Rule] = {}
    for rule in db.session().scalars(scoped(Rule).order_by(Rule.key)):
        rules.setdefault(rule.scenario, []).append(rule.key)
        if rule.scenario not in catalogue.BY_KEY:
            custom.setdefault(rule.scenario, rule)
    listed = [{"id": s.key, "name": s.name, "family": s.family, "stage": s.stage, "kind": s.kind, "builtin": True,
               "rules": rules.get(s.key, [])} for s in catalogue.SCENARIOS]
    listed += [{"id": key, "name": key, "family": key.split(".", 1)[0], "stage": rule.stage, "kind": rule.kind,
                "builtin": False, "rules": rules[key]} for key, rule in custom.items()]
    return listed


def register_schemas(spec) -> None:
    """Name each kind's params schema in the spec, for the oneOf of a rule's params."""
    for kind, detector in DETECTORS.items():
        name = f"RuleParams_{kind}"
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=detector.params)

