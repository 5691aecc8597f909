"""The one exception tree of Pylot.

    PylotError
    ├── ConfigError                 bad configuration: names the key, the value and the file
    ├── ModelError                  a model cannot be found, fetched, verified or loaded
    │   ├── ModelNotFoundError
    │   ├── ModelIntegrityError     sha256 or size mismatch
    │   └── InsufficientMemoryError the model will not fit in free memory
    ├── RequestError                the caller asked for something impossible (HTTP 400)
    │   ├── ContextLengthError      prompt longer than the context window
    │   ├── CapabilityError         e.g. fill-in-the-middle on a model without FIM tokens
    │   └── NotFoundError           no such thing (a console file, ...) (HTTP 404)
    ├── BackendError                an engine or remote server failed (HTTP 502/503/504)
    │   ├── BackendUnavailableError connection refused, server down, every backend open
    │   │   └── EditorUnavailableError  no editor is connected (or it went away before it answered)
    │   ├── BackendTimeoutError
    │   │   └── EditorTimeoutError      the editor did not answer in time
    │   ├── BackendAuthError        the remote server refused our key
    │   └── BackendResponseError    the remote server answered garbage
    ├── CancelledError              a generation was cancelled by a newer request or the client
    └── ToolError                   a code tool failed or was refused by the policy
        ├── ToolNotFoundError       no tool by that name (HTTP 404)
        ├── ToolTimeoutError        a tool call ran past its time limit
        └── EditorRequestError      the editor answered a request with an error

Translation to HTTP status codes and OpenAI error bodies happens only at the HTTP edge.
"""

from __future__ import annotations


class PylotError(Exception):
    """Base class of every error Pylot raises on purpose."""


class ConfigError(PylotError):
    """A configuration file, key or value is wrong."""

    def __init__(self, message: str, *, key: str | None = None, file: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.file = file


class ModelError(PylotError):
    """A model cannot be found, fetched, verified or loaded."""


class ModelNotFoundError(ModelError):
    """No model with that id or path."""


class ModelIntegrityError(ModelError):
    """A downloaded or imported model does not match its expected size or sha256."""


class InsufficientMemoryError(ModelError):
    """The model with the requested context does not fit in the memory that is free."""


class RequestError(PylotError):
    """The request cannot be served as asked; the message says why."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ContextLengthError(RequestError):
    """The prompt does not fit in the model's context window."""


class CapabilityError(RequestError):
    """The model or backend lacks a capability the request needs."""


class NotFoundError(RequestError):
    """The thing asked for does not exist."""


class BackendError(PylotError):
    """An engine or a remote server failed."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached, or every backend is down."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BackendTimeoutError(BackendError):
    """The backend did not answer in time."""


class BackendAuthError(BackendError):
    """The backend refused the credentials."""


class BackendResponseError(BackendError):
    """The backend answered with something that is not a valid response."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class CancelledError(PylotError):
    """The generation was cancelled."""


class ToolError(PylotError):
    """A code tool failed or was refused by the permission policy."""


class ToolNotFoundError(ToolError):
    """No tool by that name."""


class ToolTimeoutError(ToolError):
    """A tool call ran past its time limit."""


class EditorUnavailableError(BackendUnavailableError):
    """No editor is connected (or the one asked went away before it answered)."""


class EditorTimeoutError(BackendTimeoutError):
    """The editor did not answer in time."""


class EditorRequestError(ToolError):
    """The editor answered the request with an error."""
