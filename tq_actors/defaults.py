"""Every default of the server, with its unit in the name."""

from __future__ import annotations

import os

SLOTS = os.cpu_count() or 1
KILL_GRACE_SECONDS = 5.0
LOG_CAP_BYTES = 16 * 1024 * 1024
PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BATCH_TASKS = 10_000
MAX_LOG_READ_BYTES = 1024 * 1024
MAX_NAME_CHARS = 256
MAX_TEXT_BYTES = 64 * 1024
MAX_TAGS = 50
MAX_TAG_CHARS = 64
MAX_ENV_ENTRIES = 256
# Linux caps one exec's strings near 2 MiB; the server's own environment
# needs room too.
MAX_ENV_BYTES = 256 * 1024
MAX_RETRIES = 100
MAX_RETRY_DELAY_SECONDS = 3600.0
MAX_DEPENDENCIES = 1000
MAX_KEY_CHARS = 128
COVERAGE_THRESHOLD = 90.0
REQUIRED_REVIEWS = 3
MAX_TIMEOUT_SECONDS = 366 * 24 * 3600
TASK_DURATION_BOUNDS_SECONDS = (
    0.01,
    0.05,
    0.1,
    0.5,
    1,
    5,
    15,
    60,
    300,
    900,
    3600,
    14400,
)
# The event bus keeps this many recent task events, and finishes per minute
# for this many minutes, for GetActivity.
RECENT_EVENTS_KEPT = 500
ACTIVITY_MINUTES = 60
