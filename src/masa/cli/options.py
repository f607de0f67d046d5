"""What every `masa` command shares: the config from presets, files and --set; option types;
one line for a user error; the thread count."""
from __future__ import annotations

import argparse
import errno

from masa import config as cfgmod
from masa import settings
from masa.poses import ALIASES, FORMATS

POSE_FORMATS = [*FORMATS, *ALIASES]


def parse_size(text: str) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 1280x720, got {text!r}") from None
    return w, h


def command_config(args, default_preset: str | None = None) -> cfgmod.Config:
    """The command's settings: defaults, presets, --config files, then --set. A --resume starts
    from the run's own config.json instead of the defaults and the default preset."""
    presets = [p for text in (getattr(args, "preset", None) or []) for p in text.split(",") if p]
    overrides = list(getattr(args, "set", None) or [])
    if args.command in ("pretrain", "finetune") and args.threads is not None:  # the command's own section
        overrides.append(f"{args.command}.threads={args.threads}")
    try:
        if getattr(args, "resume", False):
            return settings.for_resume(args.out, presets, overrides, getattr(args, "config", None) or [])
        return cfgmod.resolve(presets or ([default_preset] if default_preset else []), overrides,
                              getattr(args, "config", None) or [])
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"masa: {err}")


def add_config_options(p, default_preset: str | None = None):
    p.add_argument("--preset", action="append",
                   help=f"named settings, applied in order ({', '.join(cfgmod.PRESETS)})"
                        + (f"; default {default_preset} (with --resume: the run's own settings)" if default_preset else ""))
    p.add_argument("--config", action="append", metavar="FILE.json", help="settings from a JSON file (a run's config.json)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="one setting, e.g. pretrain.epochs=100")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch (default: the free cores, i.e. the cores less the machine's load); "
                        "recorded in the run's config.json")


def describe_error(err: BaseException) -> str:
    """One line for a user error; a full disk is named as such."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        where = f" while writing {err.filename}" if err.filename else ""
        return f"no space left on device{where}: free some space and run again (nothing half-written was kept)"
    return str(err) or type(err).__name__


def use_threads(args):
    from masa.device import set_threads

    set_threads(args.threads or 0)
