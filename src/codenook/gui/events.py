"""The window's events: small frozen dataclasses put on the :class:`~codenook.gui.bus.Bus`.

Workers put the first group (each says which thread puts it); code on the Tk thread
publishes the second. A subscriber names the class it wants: ``bus.subscribe(Saved, f)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codenook.auth import User
    from codenook.config import Settings
    from codenook.engine.backend import Backend
    from codenook.store.conversations import ConversationRow

# -- from workers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A piece of the answer being streamed (model worker)."""

    text: str

    def join(self, other: Token) -> Token:
        """Two pieces in a row as one (the bus joins a burst before delivering it)."""
        return Token(self.text + other.text)


@dataclass(frozen=True)
class WorkerFailed:
    """A worker's job raised and named no event of its own for it."""

    worker: str
    error: Exception


@dataclass(frozen=True)
class Crash:
    """An exception escaped a thread or a Tk callback (one-line summary; details logged)."""

    summary: str


@dataclass(frozen=True)
class StatusText:
    """What the model worker is doing while the model loads (model worker)."""

    text: str


@dataclass(frozen=True)
class ModelReady:
    """The chat's backend is loaded (model worker)."""

    backend: Backend


@dataclass(frozen=True)
class ModelFailed:
    """The model could not be loaded (model worker)."""

    error: Exception


@dataclass(frozen=True)
class Accounts:
    """Whether any account exists yet (store worker)."""

    has_users: bool


@dataclass(frozen=True)
class LoggedIn:
    """A user logged in or created the first account (store worker)."""

    user: User


@dataclass(frozen=True)
class LoginFailed:
    """Wrong name or password, or an account that could not be made (store worker)."""

    error: Exception


@dataclass(frozen=True)
class ConversationList:
    """The sidebar's rows, newest first (store worker); ``open_latest`` after login."""

    rows: list[ConversationRow]
    open_latest: bool = False


@dataclass(frozen=True)
class ConversationLoaded:
    """A stored conversation to show (store worker): ``history.load``'s document."""

    doc: dict[str, Any]


@dataclass(frozen=True)
class ConversationStarted:
    """The answer being streamed belongs to this conversation (model worker)."""

    conversation_id: int


@dataclass(frozen=True)
class ConversationOpened:
    """The window now shows this conversation, or None for a new, empty one (Tk thread)."""

    conversation_id: int | None


@dataclass(frozen=True)
class QuestionSent:
    """A question went to the model (Tk thread); a new conversation's sidebar entry."""

    conversation_id: int | None
    text: str


@dataclass(frozen=True)
class AnswerDone:
    """An answer finished (model worker): its text and figures, as the session gives them."""

    figures: dict[str, Any]


@dataclass(frozen=True)
class AnswerFailed:
    """An answer or job failed (model worker)."""

    error: Exception


@dataclass(frozen=True)
class JobNote:
    """What a job's tools found (lint findings, the error a run printed) (model worker)."""

    text: str


@dataclass(frozen=True)
class FileJobDone:
    """A job started for the editor finished (model worker); ``ticket`` names the request."""

    ticket: int
    result: Any
    events: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Attached:
    """A file checked and attached for the next job (store worker)."""

    path: str


@dataclass(frozen=True)
class AttachFailed:
    """A file that cannot be attached: binary, not UTF-8, too big, missing (store worker)."""

    error: Exception


@dataclass(frozen=True)
class RunResult:
    """What a code block printed in the sandbox (tools worker)."""

    text: str


@dataclass(frozen=True)
class Saved:
    """A file was written (store worker)."""

    path: str


@dataclass(frozen=True)
class Voted:
    """A thumbs up (1) or down (-1) was stored (store worker)."""

    value: int


@dataclass(frozen=True)
class FeedbackSaved:
    """The feedback form was stored (store worker)."""

    feedback_id: int


@dataclass(frozen=True)
class LibraryFailed:
    """A model library job failed: a scan, a download, a token (library worker)."""

    error: Exception


# -- published on the Tk thread -----------------------------------------------------


@dataclass(frozen=True)
class StateChanged:
    """The answering state, the chat's backend and the last answer's figures changed."""

    state: str
    backend: Backend | None
    figures: dict[str, Any]


@dataclass(frozen=True)
class Note:
    """A short note for the status bar ("Code copied"); an empty text clears it."""

    text: str


@dataclass(frozen=True)
class LoggedOut:
    """The user logged out: the window is back at the login screen."""


@dataclass(frozen=True)
class SettingsApplied:
    """New settings are in use (``old`` is what they replaced)."""

    old: Settings
    new: Settings
