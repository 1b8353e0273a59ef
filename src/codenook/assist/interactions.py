"""The interaction log as the user sees it: listing, thumbs, tool results and statistics."""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from codenook.auth import User
from codenook.errors import CodenookError, UsageError
from codenook.store import interactions as store

VOTES: dict[str, int] = {"up": 1, "down": -1, "clear": 0}
Vote = Literal["up", "down", "clear"]


class AnswerNotFoundError(CodenookError):
    """No such answer for this user (also said when it is someone else's)."""


def not_found(message_id: int) -> AnswerNotFoundError:
    """The one error for a missing or foreign answer, so the two cannot be told apart."""
    return AnswerNotFoundError(f"No answer {message_id} (see codenook log for your answers' ids).")


def parse_since(text: str) -> float:
    """A --since value (2024-05-01 or 2024-05-01T14:30, local time) as a timestamp."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(
            f"--since {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM."
        ) from exc
    return when.timestamp()


def log_entries(
    db: sqlite3.Connection,
    user: User,
    *,
    since: float | None = None,
    job: str | None = None,
    limit: int | None = None,
) -> list[store.LogEntry]:
    """The user's answers with what produced them, newest first."""
    return store.answers(db, user.id, since=since, task=job, limit=limit)


def vote(db: sqlite3.Connection, user: User, message_id: int, choice: Vote) -> int:
    """Thumbs up, down, or clear on one of the user's answers; returns the stored vote.

    The window's thumbs call this (from its worker thread or the Tk thread: it is quick).
    """
    if choice not in VOTES:
        raise UsageError(f"A vote is one of {', '.join(VOTES)}, not {choice!r}.")
    if not store.set_vote(db, user.id, message_id, VOTES[choice]):
        raise not_found(message_id)
    return VOTES[choice]


def record_tool_results(
    db: sqlite3.Connection, user: User, message_id: int, results: dict[str, Any]
) -> None:
    """Add tool results known after the answer (lint findings, validation, sandbox exit)."""
    if not store.merge_tool_results(db, user.id, message_id, results):
        raise not_found(message_id)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1) by linear interpolation between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class GroupStats:
    """Counts and speed figures for one job and model (or for all answers)."""

    job: str
    model: str
    answers: int
    ttft_median: float | None
    ttft_p90: float | None
    tokens_per_second_median: float | None
    tokens_per_second_p90: float | None


@dataclass(frozen=True)
class Stats:
    """What ``codenook stats`` shows."""

    answers: int
    groups: list[GroupStats]
    overall: GroupStats
    generate_validated: int
    generate_passed: int
    thumbs_up: int
    thumbs_down: int

    @property
    def validation_pass_rate(self) -> float | None:
        """Share of validated generate answers that passed; None if none was validated."""
        return self.generate_passed / self.generate_validated if self.generate_validated else None

    @property
    def thumbs_up_share(self) -> float | None:
        """Share of answers with a thumbs up."""
        return self.thumbs_up / self.answers if self.answers else None

    @property
    def thumbs_down_share(self) -> float | None:
        """Share of answers with a thumbs down."""
        return self.thumbs_down / self.answers if self.answers else None

    def as_dict(self) -> dict[str, Any]:
        """Plain data, shares included (for --json)."""
        return {
            **asdict(self),
            "validation_pass_rate": self.validation_pass_rate,
            "thumbs_up_share": self.thumbs_up_share,
            "thumbs_down_share": self.thumbs_down_share,
        }


def _group(job: str, model: str, rows: list[store.StatRow]) -> GroupStats:
    # Answers that failed before a first token, or had under two tokens, have no speed.
    ttft = [r.time_to_first_token for r in rows if r.time_to_first_token is not None]
    tps = [r.tokens_per_second for r in rows if r.tokens_per_second]
    return GroupStats(
        job,
        model,
        len(rows),
        percentile(ttft, 0.5),
        percentile(ttft, 0.9),
        percentile(tps, 0.5),
        percentile(tps, 0.9),
    )


def stats(db: sqlite3.Connection, user: User) -> Stats:
    """Summary of the user's answers: per job and model, speeds, validation, thumbs."""
    rows = store.stat_rows(db, user.id)
    by_group: dict[tuple[str, str], list[store.StatRow]] = defaultdict(list)
    for r in rows:
        by_group[(r.task or "-", r.model or "-")].append(r)
    groups = [_group(job, model, by_group[(job, model)]) for job, model in sorted(by_group)]
    validated = [r for r in rows if r.task == "generate" and r.validation_passed is not None]
    return Stats(
        answers=len(rows),
        groups=groups,
        overall=_group("all", "all", rows),
        generate_validated=len(validated),
        generate_passed=sum(1 for r in validated if r.validation_passed),
        thumbs_up=sum(1 for r in rows if r.vote > 0),
        thumbs_down=sum(1 for r in rows if r.vote < 0),
    )
