"""Prometheus series the processes record as they work; `/metrics` adds what it reads from the database and Redis.

Under gunicorn, and with workers and clocks on the same host or volume, set PROMETHEUS_MULTIPROC_DIR: each process
then writes its counts to a file there and `/metrics` adds them up. Files are named by host and pid, so containers
sharing one volume never write to the same file.
"""

import os
import socket

from prometheus_client import Counter, Histogram, values

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if MULTIPROCESS_DIR:
    values.ValueClass = values.MultiProcessValue(lambda: f"{socket.gethostname()}-{os.getpid()}")

# Seconds: from a fast read to Zapier's 30 s limit.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram("reengage_http_request_duration_seconds", "Time to answer an HTTP request.",
                            ["method", "route", "status"], buckets=LATENCY_BUCKETS)
EVENTS_RECEIVED = Counter("reengage_events_received_total", "Events taken in, by whether they were new.", ["status"])
MESSAGES_SENT = Counter("reengage_messages_total", "Messages whose send ended, by outcome, channel and provider.",
                        ["outcome", "channel", "provider"])
HOOK_DELIVERY_SECONDS = Histogram("reengage_hook_delivery_duration_seconds", "Time a REST hook target took to answer.",
                                  ["outcome"], buckets=LATENCY_BUCKETS)
HOOK_DELIVERY_FAILURES = Counter("reengage_hook_delivery_failures_total", "REST hook attempts that failed, by reason.",
                                 ["reason"])
