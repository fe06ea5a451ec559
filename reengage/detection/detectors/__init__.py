"""Every rule kind, in one place: each module declares its params and how it reads events."""

from reengage.detection.detectors import (
    abandoned_session,
    closed_lost,
    failure_end_state,
    inactivity,
    low_engagement,
    repeated_attempts,
)
from reengage.detection.detectors.base import Detector

DETECTORS: dict[str, Detector] = {detector.kind: detector for detector in (
    inactivity.DETECTOR, failure_end_state.DETECTOR, repeated_attempts.DETECTOR, abandoned_session.DETECTOR,
    low_engagement.DETECTOR, closed_lost.DETECTOR)}
