"""Every REST action, in one place: each module declares its schemas and sample and `perform`s."""

from actions import enroll, exit, record_conversion, render, service_status

ACTIONS = {action.KEY: action for action in (record_conversion, service_status, enroll, exit, render)}
