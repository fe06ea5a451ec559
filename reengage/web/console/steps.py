"""A flow's step in the console: channel, "day N, time", subject, body, call to action and A/B variants, with a
preview rendered by the server (the API's render action) as it is edited.

Saving replaces the flow's phases through the API's PATCH (console.flows.patch), so a step is held to its
phase's days, and its templates compiled, exactly as the API holds them.
"""

import copy
from string import ascii_uppercase
from typing import Any

from flask import abort, redirect, request, url_for
from marshmallow import ValidationError

from actions import render
from reengage.models import Flow
from reengage.sequencing import flows, phases
from reengage.sequencing.definition import StepSchema, template_problems
from reengage.web.console.base import account, attempt, blp, page
from reengage.web.console.flows import find_flow, flow, patch
from reengage.web.console.offsets import shown_offset, written_offset

EDITED = ("channel", "subject", "body")
VARIANT_FIELDS = ("subject", "body")


def form_of(step: dict[str, Any]) -> dict[str, Any]:
    """The step as its form's fields."""
    cta = step.get("cta") or {}
    form = {**shown_offset(step["offset"]), **{name: step.get(name, "") for name in EDITED},
            "cta_label": cta.get("label", ""), "cta_url": cta.get("url", ""), "contact_email": "", "variant": "A",
            "new_variant_subject": "", "new_variant_body": ""}
    for variant in step.get("variants", ()):
        form.update({f"variant_{variant['key']}_{name}": variant.get(name, "") for name in VARIANT_FIELDS})
        form[f"variant_{variant['key']}_remove"] = ""
    return form


@blp.route("/flows/<int:flow_id>/steps/<int:number>/<key>", methods=["GET", "POST"])
def step(flow_id: int, number: int, key: str):
    """Edit one step; `preview` renders the edits without saving, `save` stores them through the API's checks."""
    return _edit(flow_id, number, key)


@blp.route("/flows/<int:flow_id>/steps/<int:number>/new", methods=["GET", "POST"])
def new_step(flow_id: int, number: int):
    """Add a step to phase `number` (the same form, with a key of its own), saved after the phase's other steps."""
    return _edit(flow_id, number, None)


@blp.route("/flows/<int:flow_id>/steps/<int:number>/<key>/remove", methods=["POST"])
def remove_step(flow_id: int, number: int, key: str):
    """Take a step out of its phase (the API's PATCH with the phase's other steps); what it sent stays."""
    definition, index = _located(flow_id, number, key)
    phased = copy.deepcopy(definition["phases"])
    del phased[number - 1]["steps"][index]
    _, problems = attempt(lambda: patch(flow_id, {"phases": phased}))
    if problems:
        return flow(flow_id, problems, 422)
    return redirect(url_for("console.flow", flow_id=flow_id, removed=key) + f"#phase-{number}")


def _located(flow_id: int, number: int, key: str | None) -> tuple[dict[str, Any], int | None]:
    """The flow's definition and the step's index in phase `number` (None for a new one); else the 404."""
    definition = flows.definition(find_flow(flow_id))
    if not 1 <= number <= len(definition["phases"]):
        abort(404)
    if key is None:
        return definition, None
    steps = definition["phases"][number - 1]["steps"]
    index = next((i for i, s in enumerate(steps) if s["key"] == key), None)
    if index is None:
        abort(404)
    return definition, index


def _edit(flow_id: int, number: int, key: str | None):
    found = find_flow(flow_id)
    definition, index = _located(flow_id, number, key)
    steps = definition["phases"][number - 1]["steps"]
    phase = phases.PHASES[number - 1]
    # A new step starts on the phase's first day at 09:00, as an email.
    stored: dict[str, Any] = steps[index] if index is not None else {
        "key": "", "channel": "email", "offset": written_offset(phase.start.days, "09:00")}
    form = {**form_of(stored), "key": stored["key"]}
    problems: dict[str, str] = {}
    preview: dict[str, Any] | None = None
    edited: dict[str, Any] | None = None
    if request.method == "POST":
        form.update({name: request.form.get(name, "") for name in form})
        if index is None:  # a preview needs no key yet; saving does
            saving = request.form.get("action") == "save"
            stored = {**stored, "key": form["key"].strip() or ("" if saving else "new-step")}
        edited, problems = attempt(lambda: edited_step(stored, form))
        if not problems and request.form.get("action") == "save":
            phased = copy.deepcopy(definition["phases"])
            if index is None:
                phased[number - 1]["steps"].append(edited)
            else:
                phased[number - 1]["steps"][index] = edited
            at = f"phases[{number - 1}].steps[{len(steps) if index is None else index}]"
            _, problems = attempt(lambda: patch(flow_id, {"phases": phased}), at)
            if not problems:
                return redirect(url_for("console.flow", flow_id=flow_id, saved=1) + f"#step-{number}-{edited['key']}")
        stored = edited or stored
    if index is not None or edited is not None:  # a new step is previewed once its fields make a step
        preview, preview_problems = attempt(lambda: _preview(found, number, stored, form))
        problems = {**preview_problems, **problems}
    if request.headers.get("X-Preview"):
        return page("preview.html", preview=preview, problems=problems)
    variants = [variant["key"] for variant in stored.get("variants", ())]
    return page("step.html", flow=found, number=number, step=stored, form=form, preview=preview, problems=problems,
                variants=variants, next_variant=_next_letter(variants), new=index is None,
                window=phases.window(phase)), 422 if problems else 200


def edited_step(stored: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The stored step with the form's edits, checked by the flow's own step schema."""
    step = {**{k: v for k, v in stored.items() if k not in (*EDITED, "cta", "variants")},
            "offset": written_offset(form["day"], form["time"]), "channel": form["channel"]}
    step.update({name: form[name] for name in ("subject", "body") if form[name]})
    if form["cta_label"] or form["cta_url"]:
        step["cta"] = {"label": form["cta_label"], "url": form["cta_url"]}
    variants = []
    for variant in stored.get("variants", ()):
        letter = variant["key"]
        if form.get(f"variant_{letter}_remove"):
            continue
        kept = {k: v for k, v in variant.items() if k not in VARIANT_FIELDS}
        kept.update({name: form[f"variant_{letter}_{name}"] for name in VARIANT_FIELDS
                     if form.get(f"variant_{letter}_{name}")})
        variants.append(kept)
    if form.get("new_variant_subject") or form.get("new_variant_body"):
        added = {"key": _next_letter([v["key"] for v in stored.get("variants", ())])}
        added.update({name: form[f"new_variant_{name}"] for name in VARIANT_FIELDS if form[f"new_variant_{name}"]})
        variants.append(added)
    if variants:
        step["variants"] = variants
    checked = StepSchema().load(step)
    if problems := template_problems(checked):
        raise ValidationError(problems)
    for number, variant in enumerate(checked.get("variants", ())):
        if found := template_problems(variant):
            raise ValidationError({"variants": {number: found}})
    return step


def _next_letter(used: list[str]) -> str:
    return next(letter for letter in ascii_uppercase[1:] if letter not in used)


def _preview(flow: Flow, number: int, step: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"email": form["contact_email"]} if form.get("contact_email") else {}
    if form.get("variant", "A") in {v["key"] for v in step.get("variants", ())}:
        data["variant"] = form["variant"]
    return render.compose(account().id, flow, number, step, data)
