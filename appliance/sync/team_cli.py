"""``appliance team ...``: this appliance's id and the events it shares with other appliances.

    appliance team id                         this appliance's id (its shard and name tag)
    appliance team shards [--event SLUG]      the event's shards in the bucket, whose is whose
    appliance team share [--event SLUG]       a join code (passphrase asked twice, or on stdin)
    appliance team join CODE                  join an event (passphrase asked, or on stdin)
    appliance team delete-all [--yes]         unpublish all of THIS appliance's photos in the event
    appliance team remove-shard ID [--objects] [--yes]
                                              owner: take another appliance's photos off the gallery
    appliance team take-over ID [--yes]       owner: keep another appliance's photos, managed here
    appliance team camera-offset "MAKE MODEL" SECONDS   the camera's clock is SECONDS fast
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from ..config import Config
from ..store import Store
from . import bucket, joincode, peers, takeover, team

EXIT_NO = 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser("team", help="several appliances in one event: id, share, join, shards")
    t = p.add_subparsers(dest="team_command", required=True)
    t.add_parser("id", help="this appliance's id")
    for name in ("shards", "share", "delete-all"):
        c = t.add_parser(name)
        c.add_argument("--event", help="event slug (default: the current event)")
        if name == "delete-all":
            c.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    join = t.add_parser("join", help="join an event with a join code")
    join.add_argument("code")
    remove = t.add_parser("remove-shard", help="owner: remove another appliance's shard")
    remove.add_argument("id")
    remove.add_argument("--event")
    remove.add_argument("--objects", action="store_true", help="delete its photos too")
    remove.add_argument("--yes", action="store_true")
    take = t.add_parser("take-over", help="owner: adopt another appliance's shard (docs/multi.md)")
    take.add_argument("id")
    take.add_argument("--event")
    take.add_argument("--yes", action="store_true")
    offset = t.add_parser("camera-offset", help="a camera's clock is SECONDS fast (negative: slow)")
    offset.add_argument("camera", help='"<make> <model>" as the admin shows it')
    offset.add_argument("seconds", type=float)


def _passphrase(ask: Callable[[str], str], twice: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = ask("Passphrase (tell it to the other photographer; not in the code): ")
    if twice and ask("Again: ") != first:
        raise joincode.JoinCodeError("the passphrases differ")
    return first


def run(config: Config, store: Store, args: argparse.Namespace,
        ask: Callable[[str], str] = getpass.getpass, confirm: Callable[[str], str] = input) -> int:
    cmd = args.team_command
    if cmd == "id":
        print(store.appliance_id())
        return 0
    if cmd == "camera-offset":
        store.set_camera_offset(args.camera, args.seconds)
        print(f"{args.camera}: clock {args.seconds:+g} s (applied to the next manifest)")
        return 0
    try:
        if cmd == "join":
            joined = team.join(config, store, args.code, _passphrase(ask, twice=False))
            print(f"joined {joined.slug} as appliance {store.appliance_id()}")
            if not joined.bucket_matches:
                print("this appliance uploads elsewhere: put this into appliance.toml (keep it 0600)\n"
                      + joined.bucket_toml)
            return 0
        event = store.event_by_slug(args.event) if args.event else store.current_event()
        if event is None:
            print("appliance team: no such event", file=sys.stderr)
            return 2
        if cmd == "share":
            print(team.share(config, store, event, _passphrase(ask, twice=True)))
            return 0
        if cmd == "delete-all":
            if not args.yes and confirm(f"Unpublish all of this appliance's photos in {event['slug']}? "
                                        "[y/N] ").strip().lower() not in ("y", "yes"):
                return EXIT_NO
            print(f"unpublished {team.delete_all(config, store, event['id'])} photos")
            return 0
        s3 = bucket.client(config.bucket)
        if cmd == "shards":
            mine = store.appliance_id()
            for peer, obj in sorted(peers.shards(config, s3, event).items()):
                print(f"{peer}{' (this appliance)' if peer == mine else ''}  {obj['size']} bytes  "
                      f"{obj['last_modified']}")
            return 0
        if cmd == "take-over":
            if not args.yes and confirm(f"Take over appliance {args.id}'s photos in {event['slug']} (they "
                                        "stay, managed here)? [y/N] ").strip().lower() not in ("y", "yes"):
                return EXIT_NO
            print(f"took over {takeover.take_over(config, store, s3, event, args.id)} photos "
                  "(its shard goes once this appliance's is in the bucket)")
            return 0
        if not args.yes and confirm(f"Remove appliance {args.id}'s photos from {event['slug']}'s gallery"
                                    f"{' and delete them' if args.objects else ''}? [y/N] "
                                    ).strip().lower() not in ("y", "yes"):
            return EXIT_NO
        keys = peers.remove_shard(config, store, s3, event, args.id, with_objects=args.objects)
        print(f"deleted {len(keys)} object(s)")
        return 0
    except (joincode.JoinCodeError, ValueError) as exc:
        print(f"appliance team: {exc}", file=sys.stderr)
        return 2
