"""``codenook context show``: exactly what a question would get from your projects, counted.

Also the ``--no-context`` and ``--project`` options the job commands share.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from codenook.assist.jobs.ask import prepare
from codenook.cli.jobkit import add_language_option, add_model_and_generation, job_session
from codenook.cli.textin import read_question

NAME = "context"
HELP = "show what your indexed projects would add to a question, with token counts"


def add_context_options(parser: argparse.ArgumentParser) -> None:
    """--no-context, --project NAME."""
    g = parser.add_argument_group("project context")
    g.add_argument(
        "--no-context",
        action="store_true",
        help="do not add passages of your indexed projects (codenook project) to the prompt",
    )
    g.add_argument(
        "--project", metavar="NAME", help="take context from this project only (default: all)"
    )


def context_options(args: argparse.Namespace) -> dict[str, Any]:
    """The job keywords the context options give."""
    return {"context": not args.no_context, "project": args.project}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``context``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    p = sub.add_parser("show", help="what 'codenook ask QUESTION' would add, with token counts")
    p.add_argument("question")
    p.add_argument("--project", metavar="NAME", help="this project only (default: all)")
    p.add_argument("--no-docs", action="store_true", help="as ask --no-docs")
    p.add_argument("--json", action="store_true")
    add_language_option(p)
    add_model_and_generation(p)


def _ignore(_: object) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    """Build the ask request as ``codenook ask`` would, print its project context; send nothing."""
    question = read_question(args.question)
    with job_session(args) as (session, settings):
        job, _ = prepare(
            session,
            question,
            language=args.lang,
            lookup=not args.no_docs,
            on_text=_ignore,
            prompts=settings.prompts,
            project=args.project,
        )
    ctx = job.context
    if args.json:
        rows = {
            "budget": ctx.budget if ctx else 0,
            "tokens": ctx.tokens if ctx else 0,
            "passages": [
                {"source": p.source, "title": p.title, "tokens": p.tokens, "example": p.example}
                for p in (ctx.passages if ctx else [])
            ],
            "left_out": ctx.cut if ctx else [],
            "text": ctx.block() if ctx else "",
        }
        print(json.dumps(rows, indent=2))
    elif ctx is None:
        print("No projects indexed: nothing would be added ('codenook project add FOLDER').")
    else:
        print(ctx.describe())
    return 0
