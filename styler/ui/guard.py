"""Every event handler's failures as one readable line in a message box, never a stack
trace: what the user can fix in its own words, anything else as 'something went wrong'
(the details go to the server log)."""

from __future__ import annotations

import functools
import html
import inspect
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from styler.errors import StylerError
from styler.ui.messages import UserError, user_message

log = logging.getLogger("styler.ui")


def _message(exc: BaseException) -> str:
    """Escaped: Gradio renders the message as HTML, and it may quote a user's file name."""
    if isinstance(exc, UserError):
        return html.escape(str(exc))
    if isinstance(exc, (StylerError, OSError, ValueError)):
        return html.escape(user_message(exc))
    log.exception("unexpected error in the UI", exc_info=exc)
    return (
        f"Something went wrong ({type(exc).__name__}). Please try again; if it keeps "
        "happening, the server log has the details."
    )


def readable(exc: BaseException) -> str:
    """The line `friendly` would show, for a handler that ends in a status line instead (its
    buttons re-enabled) rather than in a message box."""
    return _message(exc)


def friendly() -> Callable[[Callable], Callable]:
    """Wrap an event handler (plain or generator) so every failure reaches the user as
    one readable line in a message box, never as a stack trace."""

    def decorate(fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def stream(*args: Any, **kwargs: Any):
                try:
                    yield from fn(*args, **kwargs)
                except gr.Error:
                    raise
                except Exception as exc:
                    raise gr.Error(_message(exc), print_exception=False) from None

            return stream

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise gr.Error(_message(exc), print_exception=False) from None

        return call

    return decorate
