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

ACTIONS = {action.KEY: action for action in (
    send_phase_message, record_event, record_conversion, record_deal, enroll, exit, update_contact, render,
    service_status)}
