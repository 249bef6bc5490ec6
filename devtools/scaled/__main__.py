"""`python -m devtools.scaled up|down|status` (`make scaled-up` / `make scaled-down`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT
from devtools.scaled.profile import ScaledProfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.scaled", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("RAKEL_SCALED_ROOT", PROJECT_ROOT / "var" / "scaled")),
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="down: keep the PostgreSQL data for the next `up`"
    )
    args = parser.parse_args(argv)
    profile = ScaledProfile(args.root)
    if args.command == "up":
        profile.up()
        print(profile.banner())
    elif args.command == "down":
        if not profile.load():
            print(f"nothing running under {args.root}")
            return 0
        profile.down(keep_data=args.keep_data)
        print(f"scaled profile stopped ({args.root})")
    else:
        if not profile.load():
            print(f"not running ({args.root})")
            return 1
        for name in profile.pids:
            state = "up" if name == "postgres" or profile.alive(name) else "DOWN"
            print(f"  {name:<10} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
