"""Every REST action, in one place: each module declares its schemas and sample and `perform`s."""

from actions import (
    enroll,
    exit,
    record_conversion,
    record_deal,
    record_event,
    render,
    send_phase_message,
    service_status,
    update_contact,
)
from actions.action import Action

ACTIONS: dict[str, Action] = {action.key: action for action in (
    send_phase_message.ACTION, record_event.ACTION, record_conversion.ACTION, record_deal.ACTION, enroll.ACTION,
    exit.ACTION, update_contact.ACTION, render.ACTION, service_status.ACTION)}
