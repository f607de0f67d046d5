"""The `masa` command: parse, resolve the config, call the library (one file per group of commands)."""
from __future__ import annotations

import logging
import sys

from masa.cli.options import describe_error
from masa.cli.parser import build_parser
from masa.extras import MissingExtra
from masa.train.errors import NonFiniteLoss

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # our own messages at INFO, other libraries' only when they warn
        logging.getLogger("masa").setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    try:
        return args.func(args)
    except (OSError, ValueError, NonFiniteLoss, MissingExtra) as err:  # user errors: one line (-v: the traceback)
        if args.verbose:
            raise
        name = " ".join(a for a in (args.command, getattr(args, "data_command", None), getattr(args, "runs_command", None)) if a)
        print(f"masa {name}: {describe_error(err)}", file=sys.stderr)
        return 1
