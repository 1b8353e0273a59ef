"""A chat session: a stored conversation, fitted into the context, streamed and saved.

Nothing a user typed or received is lost: the question is committed before the model
starts, and the answer is saved while it streams and marked complete at the end.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from codenook import applog
from codenook.assist.budget import answer_room, fit_turns
from codenook.auth import User
from codenook.config import GenerationSettings
from codenook.engine import model_hash
from codenook.engine.backend import (
    Backend,
    GenerationOptions,
    Message,
    StreamResult,
    TokenStream,
)
from codenook.errors import CodenookError, GenerationError, StoreError
from codenook.store import conversations as store
from codenook.store import interactions

DEFAULT_SYSTEM_PROMPT = (
    "You are codenook, a concise coding assistant for Python and Bash. "
    "Answer with correct, idiomatic code in fenced Markdown blocks and short explanations."
)
SAVE_EVERY_S = 0.5
log = logging.getLogger(__name__)


class NotFoundError(CodenookError):
    """No such conversation for this user (also said when it is someone else's)."""


def options_from(settings: GenerationSettings) -> GenerationOptions:
    """Generation options for one answer from the user's settings."""
    return GenerationOptions(
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
        stop=tuple(settings.stop),
        seed=settings.seed,
        draft=settings.draft,
        edit_grammar=settings.edit_grammar,
    )


def adapter_label(path: str | None) -> str | None:
    """The name the log gives an adapter file: its folder's for the ``adapter.gguf`` that
    'codenook tune' writes into ``adapters/NAME/``, else the file's own name."""
    if not path:
        return None
    p = Path(path)
    return p.parent.name if p.name == "adapter.gguf" else p.name


def drafting(options: GenerationOptions, copies: bool) -> GenerationOptions:
    """``options`` for one answer: "auto" drafting is on when the answer ``copies`` its
    input (a job declared with ``drafts=True``: diffs, documented code), off elsewhere."""
    if options.draft == "auto":
        return replace(options, draft="on" if copies else "off")
    return options


def for_model(text: str) -> str:
    """Text as the model gets it: NUL bytes cannot pass through llama.cpp's C strings."""
    return text.replace("\x00", "\ufffd")


@dataclass
class Answer:
    """One finished (or stopped) answer and its figures."""

    conversation_id: int
    message_id: int
    result: StreamResult
    turns_dropped: int = 0
    model: str = ""
    #: Which runtime, and which machine, answered (``ModelInfo.backend``).
    backend: str = ""

    @property
    def text(self) -> str:
        """The answer's text."""
        return self.result.text

    def figures(self) -> dict[str, object]:
        """The answer's metadata as a plain dict (for --json and the window)."""
        r = self.result
        return {
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "model": self.model,
            "backend": self.backend,
            "prompt_tokens": r.prompt_tokens,
            "answer_tokens": r.completion_tokens,
            "cached_tokens": r.cached_tokens,
            "time_to_first_token": r.time_to_first_token,
            "tokens_per_second": r.tokens_per_second,
            "finish_reason": r.finish_reason,
            "turns_dropped": self.turns_dropped,
        }


@dataclass
class ChatSession:
    """A conversation owned by ``user``, answered by ``backend``, kept in ``db``."""

    db: sqlite3.Connection
    user: User
    backend: Backend
    options: GenerationOptions = field(default_factory=GenerationOptions)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    conversation_id: int | None = None
    #: What the user typed for the next job (run_job's ``shown``); the job takes it.
    typed: str | None = None
    _first_turn: int = 0
    #: Answers stored before the model file's hash was known (filled in later).
    _unhashed: list[int] = field(default_factory=list)

    @classmethod
    def resume(
        cls,
        db: sqlite3.Connection,
        user: User,
        backend: Backend,
        conversation_id: int,
        *,
        options: GenerationOptions,
    ) -> ChatSession:
        """Continue one of the user's conversations."""
        row = store.get_conversation(db, user.id, conversation_id)
        if row is None:
            raise NotFoundError(f"No conversation {conversation_id} (see codenook history list).")
        return cls(db, user, backend, options, row.system_prompt, row.id)

    def settings_used(self) -> dict[str, Any]:
        """The sampling options and model settings an answer is produced with (logged)."""
        i = self.backend.info
        # A job's grammar is per answer and as long as its file: edit_grammar says enough.
        options = {k: v for k, v in asdict(self.options).items() if k != "grammar"}
        return {
            **options,
            "context_length": i.context_length,
            "gpu_layers": i.gpu_layers,
            "threads": i.threads,
        }

    def record_model_hash(self, *, timeout: float = 0.0) -> None:
        """Fill in the model file's hash on answers that finished before it was known.

        Waits up to ``timeout`` seconds for the background hash (0: only if it is ready).
        """
        if not self._unhashed:
            return
        sha = model_hash.wait(self.backend.info.path, timeout=timeout)
        if sha is not None:
            interactions.set_model_sha256(self.db, self.user.id, self._unhashed, sha)
            self._unhashed.clear()

    def turns(self) -> list[tuple[Message, Message]]:
        """Finished question-and-answer pairs, oldest first, as the model will see them."""
        if self.conversation_id is None:
            return []
        pairs, question = [], None
        for m in store.messages(self.db, self.user.id, self.conversation_id):
            if m.role == "user":
                question = m
            elif question is not None and m.content:
                pairs.append(
                    (
                        Message("user", for_model(question.content)),
                        Message("assistant", for_model(m.content)),
                    )
                )
                question = None
        return pairs

    def _ensure_conversation(self, first_question: str) -> int:
        if self.conversation_id is None:
            self.conversation_id = store.create_conversation(
                self.db,
                self.user.id,
                title=store.make_title(first_question),
                system_prompt=self.system_prompt,
                settings={
                    "model": self.backend.info.path,
                    "max_tokens": self.options.max_tokens,
                    "temperature": self.options.temperature,
                    "top_p": self.options.top_p,
                    "seed": self.options.seed,
                },
            )
        return self.conversation_id

    def send(
        self,
        text: str,
        *,
        on_text: Callable[[str], None],
        task: str = "ask",
        language: str | None = None,
        tool_results: dict[str, Any] | None = None,
        shown: str | None = None,
        drafts: bool = False,
        grammar: str | None = None,
    ) -> Answer:
        """Ask ``text``; stream the answer to ``on_text``; store both. Returns the answer.

        ``tool_results`` (lint findings, validation, sandbox exit) go into the log row.
        ``shown`` is what the user typed when ``text`` is a job's prompt around it: the
        history shows it, the model gets ``text`` (now and in later turns). ``drafts``:
        the answer copies its input, so "auto" drafting turns on (:func:`drafting`).
        ``grammar``: a GBNF grammar this answer must follow (where the runtime takes one).
        Runs in the caller's thread (a worker thread in the window).
        """
        if not text.strip():
            raise GenerationError("The message is empty.")
        conv_id = self._ensure_conversation(text)
        self._add_question(conv_id, text, shown)
        return self._answer(
            text,
            on_text=on_text,
            task=task,
            language=language,
            tool_results=tool_results,
            drafts=drafts,
            grammar=grammar,
        )

    def _add_question(self, conv_id: int, text: str, shown: str | None) -> None:
        """Store the user's turn: the prompt, and what they typed when it differs."""
        apart = shown if shown is not None and shown != text else None
        store.add_message(self.db, self.user.id, conv_id, role="user", content=text, shown=apart)

    def regenerate(
        self,
        *,
        on_text: Callable[[str], None],
        task: str = "ask",
        language: str | None = None,
        drafts: bool = False,
    ) -> Answer:
        """Answer the last question again, replacing the answer the user asked to redo."""
        if self.conversation_id is None:
            raise GenerationError("There is no answer to regenerate yet.")
        rows = store.messages(self.db, self.user.id, self.conversation_id)
        last_question = next((m for m in reversed(rows) if m.role == "user"), None)
        if last_question is None:
            raise GenerationError("There is no answer to regenerate yet.")
        for m in rows:
            if m.id > last_question.id and m.role == "assistant":
                store.delete_message(self.db, self.user.id, m.id)
        return self._answer(
            last_question.content, on_text=on_text, task=task, language=language, drafts=drafts
        )

    def _answer(
        self,
        text: str,
        *,
        on_text: Callable[[str], None],
        task: str,
        language: str | None,
        tool_results: dict[str, Any] | None = None,
        drafts: bool = False,
        grammar: str | None = None,
    ) -> Answer:
        conv_id = self.conversation_id
        assert conv_id is not None
        uid = self.user.id
        info = self.backend.info
        answer_id = self._new_answer(task, language, tool_results)
        pairs = self.turns()
        try:
            fit = fit_turns(
                Message("system", self.system_prompt),
                pairs,
                Message("user", for_model(text)),
                count=self.backend.count_prompt,
                context_length=info.context_length,
                reserve=answer_room(info.context_length, self.options.max_tokens),
                start=self._first_turn,
            )
        except CodenookError:
            store.update_message(
                self.db, uid, answer_id, content="", complete=False, finish_reason="error"
            )
            raise
        self._first_turn = fit.first_turn
        messages = [
            Message("system", self.system_prompt),
            *(m for pair in pairs[fit.first_turn :] for m in pair),
            Message("user", for_model(text)),
        ]
        stream = self.backend.stream_chat(
            messages,
            options=replace(drafting(self.options, drafts), grammar=grammar),
            cache_key=f"conversation:{conv_id}",
        )
        return self._stream_into(
            answer_id, stream, text=text, task=task, on_text=on_text, turns_dropped=fit.first_turn
        )

    def _new_answer(
        self, task: str, language: str | None, tool_results: dict[str, Any] | None
    ) -> int:
        """Store an empty, incomplete answer with the figures known before it streams."""
        conv_id = self.conversation_id
        assert conv_id is not None
        info = self.backend.info
        # Hashing a model takes seconds: it runs in the background, never in the token loop.
        model_hash.start(info.path)
        self.record_model_hash()
        figures = {
            "task": task,
            "language": language,
            "model": info.name,
            "model_file": Path(info.path).name,
            "backend": info.backend,
            "adapter": adapter_label(info.adapter),
            "settings": self.settings_used(),
            "tool_results": tool_results,
        }
        return store.add_message(
            self.db, self.user.id, conv_id, role="assistant", content="", complete=False, **figures
        )

    def record(
        self,
        text: str,
        *,
        start: Callable[[], TokenStream],
        on_text: Callable[[str], None],
        task: str,
        language: str | None = None,
        tool_results: dict[str, Any] | None = None,
        ended: Callable[[], bool] | None = None,
        shown: str | None = None,
    ) -> Answer:
        """Store ``text`` as a question and the stream ``start()`` opens as its answer.

        For exchanges that are not a chat turn (a fill-in-the-middle completion, a
        one-off request without the history): the model sees only what ``start`` sends,
        and the conversation keeps both sides. ``ended`` is asked after each piece; when
        it says the answer is complete (the caller saw the end of a block), generation
        stops there and the answer counts as finished. ``shown``: as for :meth:`send`.
        Runs in the caller's thread.
        """
        if not text.strip():
            raise GenerationError("The message is empty.")
        conv_id = self._ensure_conversation(text)
        self._add_question(conv_id, text, shown)
        answer_id = self._new_answer(task, language, tool_results)
        try:
            stream = start()
        except BaseException:
            store.update_message(
                self.db, self.user.id, answer_id, content="", complete=False, finish_reason="error"
            )
            raise
        return self._stream_into(
            answer_id, stream, text=text, task=task, on_text=on_text, turns_dropped=0, ended=ended
        )

    def _stream_into(
        self,
        answer_id: int,
        stream: TokenStream,
        *,
        text: str,
        task: str,
        on_text: Callable[[str], None],
        turns_dropped: int,
        ended: Callable[[], bool] | None = None,
    ) -> Answer:
        """Pass ``stream`` to ``on_text`` while saving it as message ``answer_id``."""
        conv_id = self.conversation_id
        assert conv_id is not None
        uid = self.user.id
        info = self.backend.info
        saved_at = time.monotonic()
        saving = True
        try:
            for piece in stream:
                on_text(piece)
                if ended is not None and ended():
                    stream.close()
                    # Stopped by the caller at the end of what it wanted: finished.
                    stream.result.finish_reason = "stop"
                    break
                if saving and time.monotonic() - saved_at >= SAVE_EVERY_S:
                    try:
                        store.update_message(
                            self.db, uid, answer_id, content=stream.result.text, complete=False
                        )
                    except StoreError as exc:
                        # The answer goes on (it is shown as it comes); the final save
                        # below tries again and says why if it still cannot.
                        log.info("answer %d is not saved while it streams: %s", answer_id, exc)
                        saving = False
                    saved_at = time.monotonic()
        finally:
            stream.close()
            r = stream.result
            sha = model_hash.known(info.path)
            if sha is None:
                self._unhashed.append(answer_id)
            store.update_message(
                self.db,
                uid,
                answer_id,
                content=r.text,
                complete=r.finish_reason in ("stop", "length"),
                prompt_tokens=r.prompt_tokens,
                answer_tokens=r.completion_tokens,
                time_to_first_token=r.time_to_first_token,
                tokens_per_second=r.tokens_per_second,
                finish_reason=r.finish_reason,
                turns_dropped=turns_dropped,
                cached_tokens=r.cached_tokens,
                model_sha256=sha,
                # Which model and machine answered, once known (a failover happens at the request).
                model=info.name,
                backend=info.backend,
                adapter=adapter_label(info.adapter),
            )
        log.info(
            "answer %d: job %s, model %s, %d+%d tokens, first token %.3f s, %.1f tokens/s, %s",
            answer_id,
            task,
            info.name,
            r.prompt_tokens,
            r.completion_tokens,
            r.time_to_first_token or 0.0,
            r.tokens_per_second,
            r.finish_reason,
        )
        log.debug("answer %d to %s: %s", answer_id, applog.content(text), applog.content(r.text))
        return Answer(conv_id, answer_id, stream.result, turns_dropped, info.name, info.backend)
