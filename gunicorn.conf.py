"""Gunicorn settings for the web process, read by `gunicorn packetdesk.wsgi` from this folder.

One place for the Procfile and benchmarks/load.py, so the benchmark measures what runs.
Environment variables override each setting without editing this file.
"""

import os

bind = os.environ.get("PACKETDESK_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PACKETDESK_WEB_WORKERS", "2"))
# One thread per worker (gunicorn's sync worker). The work behind a request is CPU-bound
# (an upload is decoded and fingerprinted at the door), so threads only contend for the
# GIL: on 2 cores, benchmarks/load.py measured 24.3 uploads/s and 3.6 clerk pages/s with 1
# thread per worker against 22.9 and 3.0 with 4. Slow clients belong behind a buffering
# proxy (nginx) in front, not in extra threads.
threads = int(os.environ.get("PACKETDESK_WEB_THREADS", "1"))
# A large ZIP upload over a slow link streams for minutes.
timeout = 300
graceful_timeout = 10
backlog = 256
accesslog = "-"
