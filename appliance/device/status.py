"""``appliance status``: buffer, published, queue and bucket state, for a terminal or as JSON."""

from __future__ import annotations

import argparse
import json

from ..config import Config
from ..store import open_store
from ..sync.second_copy import summary_line


def show_status(config: Config, args: argparse.Namespace) -> int:
    status = open_store(config).status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    online = {True: "online", False: "offline", None: "unknown"}[status["online"]]
    print(f"event:      {status['event']}  (this appliance: {status['appliance_id']})")
    print(f"buffer:     {status['buffer']} photos")
    print(f"published:  {status['published']} ({status['publishing']} in progress, "
          f"{status['failed']} failed)")
    print(f"queue:      {status['queue']['jobs']} jobs, {status['queue']['bytes']} bytes")
    print(f"bucket:     {online}; last upload {status['last_success_at'] or 'never'}")
    if status.get("current_upload"):
        more = status.get("in_flight", 1) - 1
        print(f"uploading:  {status['current_upload']}" + (f" (+{more} more)" if more > 0 else ""))
    if status.get("retrying"):
        print(f"retrying:   {status['retrying']} jobs")
    for target in status.get("second_copy", []):
        print(summary_line(target))
    if status["last_error"]:
        print(f"last error: {status['last_error']}")
    return 0
