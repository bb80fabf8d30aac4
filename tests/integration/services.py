"""Are this machine's PostgreSQL and Redis reachable? Exit 0 if both answer, 1 if not.

`make test` runs the integration pass against them only when they are; CI sets
REQUIRE_SERVICES=1 so that their absence fails the build instead of skipping.
"""

import sys

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/15"


def unreachable() -> list[str]:
    problems = []
    try:
        import psycopg

        with psycopg.connect(POSTGRES, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:  # any failure means "not usable here"
        problems.append(f"PostgreSQL at 127.0.0.1:5432: {exc}")
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at 127.0.0.1:6379: {exc}")
    return problems


if __name__ == "__main__":
    missing = unreachable()
    for problem in missing:
        print(f"not reachable: {problem}", file=sys.stderr)
    sys.exit(1 if missing else 0)
