"""What the benchmark scripts share: the machine's load, headings, a database of their own,
and stopping the process groups they start.

Imported as `harness` by scripts run as `python benchmarks/<name>.py` (their folder is on
sys.path then).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def load_line() -> str:
    """The machine's load, since other engineers share its 2 cores while this runs."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def heading(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


# This machine's PostgreSQL, as its administrator (trust auth), for creating databases.
_POSTGRES_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def ensure_database(name: str) -> None:
    """Create the PostgreSQL database `name` on this machine's server unless it exists."""
    import psycopg

    with psycopg.connect(_POSTGRES_SERVER, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def recreate_database(name: str) -> None:
    """Drop the PostgreSQL database `name` (if any) and create it empty: a run that adds rows
    (the city's library grows with every upload) must not be slowed by the last run's."""
    import psycopg

    with psycopg.connect(_POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        print(f"created database {name} (empty)")


def stop_process_group(process: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM a process started with start_new_session=True and its children; SIGKILL after `grace` s."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, its own memory map's high-water mark.

    Not getrusage's ru_maxrss: Linux carries the parent's peak into a child over fork and
    exec, so a "fresh" benchmark process started from a large one would report the parent's.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
