"""Every rule kind, in one place: each module declares its params and how it reads events."""

from reengage.detection.detectors import (
    abandoned_session,
    closed_lost,
    failure_end_state,
    inactivity,
    low_engagement,
    repeated_attempts,
)

DETECTORS = {
    detector.KIND: detector
    for detector in (inactivity, failure_end_state, repeated_attempts, abandoned_session, low_engagement, closed_lost)
}
