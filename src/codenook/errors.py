"""User-facing errors: each carries a message a person can act on."""

from __future__ import annotations


class CodenookError(Exception):
    """Base of every error a user should see as a message, not a traceback.

    The message says what went wrong, with which file or setting, and what to do.
    """

    #: Exit status the command line uses for this error.
    exit_code: int = 2


class ConfigError(CodenookError):
    """A setting is invalid or a settings file cannot be used."""


class ModelError(CodenookError):
    """A model file is missing, unreadable, or not a usable model."""


class GenerationError(CodenookError):
    """Generation failed (the prompt does not fit, the runtime broke, ...)."""


class UsageError(CodenookError):
    """A command was called wrongly (unknown option, missing argument)."""


class SandboxError(CodenookError):
    """Code cannot be run safely: no isolation where it is required, or a bad request."""


class StoreError(CodenookError):
    """The database cannot be used as it is (the children say why and what to do)."""


class StoreLockedError(StoreError):
    """Another process has held the database longer than codenook waits."""


class StoreFullError(StoreError):
    """The disk holding the database is full."""


class StoreReadOnlyError(StoreError):
    """The data folder (or the database) cannot be written: reading still works."""


class StoreDamagedError(StoreError):
    """The database file is damaged or is not a codenook database."""


class StoreGoneError(StoreError):
    """What is being saved belongs to an account or conversation removed meanwhile."""
