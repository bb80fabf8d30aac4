"""Push a folder of images to a records request for one department, and say which the
city's library refused as duplicates. Needs only `requests`.

    PACKETDESK_TOKEN=pdt_... python examples/department_push.py \\
        --url http://127.0.0.1:8000 --request 42 --department PD ./photos

The token comes from `python manage.py create_department_token PD "PD evidence server"`.
Files are sent in batches; paths below the folder are kept. Exit status 0 when every
file was stored (or was already there), 1 when some were refused or rejected.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import requests

BATCH = 20
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".gif", ".bmp"}


def push_batch(
    session: requests.Session, url: str, department: str, root: Path, batch: list[Path]
) -> list[dict]:
    """One multipart POST; a 409 means the department's policy rejected every file in it."""
    handles = [path.open("rb") for path in batch]
    try:
        response = session.post(
            url,
            data={"department": department, "paths": [p.relative_to(root).as_posix() for p in batch]},
            files=[("files", (p.name, h)) for p, h in zip(batch, handles, strict=True)],
            timeout=300,
        )
    finally:
        for handle in handles:
            handle.close()
    body = response.json()
    if response.status_code == 409 and body["error"]["code"] == "duplicate_rejected":
        return body["error"]["details"]["outcomes"]
    if response.status_code != 201:
        raise SystemExit(f"{response.status_code}: {body.get('error', {}).get('message', body)}")
    return body["outcomes"]


def where_seen(outcome: dict) -> str:
    matches = (outcome.get("matches") or {}).get("exact", []) + (outcome.get("matches") or {}).get("near", [])
    places = {
        f"{s['department_code']} in {s['request_reference']} ({m['relation']})"
        for m in matches
        for s in m["sightings"]
    }
    return "; ".join(sorted(places))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--request", type=int, required=True, help="The request's id in the API.")
    parser.add_argument("--department", required=True, help="Department code, e.g. PD.")
    args = parser.parse_args()
    token = os.environ.get("PACKETDESK_TOKEN")
    if not token:
        return print("Set PACKETDESK_TOKEN to the department's API token.", file=sys.stderr) or 2
    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"{args.url.rstrip('/')}/api/v1/requests/{args.request}/items/"
    counts: dict[str, int] = {}
    for start in range(0, len(files), BATCH):
        for outcome in push_batch(session, url, args.department, args.folder, files[start : start + BATCH]):
            counts[outcome["result"]] = counts.get(outcome["result"], 0) + 1
            if outcome["result"] == "rejected_duplicate":
                print(f"REJECTED  {outcome['name']}: already seen as {where_seen(outcome)}")
            elif outcome["result"] == "refused":
                print(f"REFUSED   {outcome['name']}: {outcome['reason']}")
            elif outcome.get("matches") and where_seen(outcome):
                print(f"FLAGGED   {outcome['name']}: stored; also seen as {where_seen(outcome)}")
    print(", ".join(f"{n} {result}" for result, n in sorted(counts.items())) or "no images found")
    return 1 if counts.get("refused") or counts.get("rejected_duplicate") else 0


if __name__ == "__main__":
    sys.exit(main())
