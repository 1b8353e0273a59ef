"""``codenook stats``: how your answers went, per job and model."""

from __future__ import annotations

import argparse
import json

from codenook.assist import interactions
from codenook.cli.account import open_auth, require_user

NAME = "stats"
HELP = "answers per job and model, time to first token and tokens/s, validation, thumbs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stats``."""
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def run(args: argparse.Namespace) -> int:
    """Summarise the logged-in user's answers."""
    auth = open_auth()
    user = require_user(auth)
    s = interactions.stats(auth.db, user)
    if args.json:
        print(json.dumps(s.as_dict(), indent=2))
        return 0
    print(f"answers: {s.answers:,}")
    print(
        f"thumbs: up {_share(s.thumbs_up_share)} ({s.thumbs_up:,}), "
        f"down {_share(s.thumbs_down_share)} ({s.thumbs_down:,})"
    )
    print(
        f"generate validation: {_share(s.validation_pass_rate)} passed "
        f"({s.generate_passed:,} of {s.generate_validated:,} validated)"
    )
    print()
    print(
        f"{'job':<10} {'model':<28} {'answers':>7}  {'first token p50/p90 (s)':>23}  "
        f"{'tokens/s p50/p90':>16}"
    )
    for g in [*s.groups, s.overall]:
        first = f"{_num(g.ttft_median, '.2f')} / {_num(g.ttft_p90, '.2f')}"
        speed = (
            f"{_num(g.tokens_per_second_median, '.1f')} / {_num(g.tokens_per_second_p90, '.1f')}"
        )
        print(f"{g.job:<10} {g.model[:28]:<28} {g.answers:>7,}  {first:>23}  {speed:>16}")
    return 0
