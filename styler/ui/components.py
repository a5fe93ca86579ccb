"""Gradio components the tabs share, set up the way styler needs them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD


def photo_input(**kwargs: Any) -> gr.Image:
    """gr.Image(type="filepath") whose own decoding errors (a file that is no image) become
    a readable message.

    A wrapped method on the instance rather than a subclass: Gradio writes a .pyi stub next
    to the module of every Component subclass, which must not happen inside a package.
    """
    kwargs["elem_classes"] = ["styler-image", *kwargs.get("elem_classes", [])]
    image = gr.Image(type="filepath", **kwargs)
    decode = image.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return decode(payload)
        except gr.Error:
            raise
        except Exception:  # Gradio's decoder refused it: styler's own check says why
            path = getattr(payload, "path", None)
            if path:
                return path
            raise gr.Error("That file is not an image styler can read. Use a JPEG, PNG or "
                           "WebP photo.", print_exception=False) from None

    image.preprocess = preprocess  # type: ignore[method-assign]
    return image


def thumbnail_grid(label: str, elem_id: str, **kwargs: Any) -> gr.Gallery:
    """A grid of clickable thumbnails (the style grid, the history): no preview pop-up."""
    return gr.Gallery(label=label, columns=4, height=None, allow_preview=False,
                      fit_columns=False, buttons=[], object_fit="cover", elem_id=elem_id,
                      **kwargs)  # fmt: skip


def download_button(path: str | None) -> gr.DownloadButton:
    """The Download button's update: the file to give, enabled when there is one."""
    return gr.DownloadButton(value=path, interactive=path is not None)


def api_signature(names: Sequence[str], *, request: bool = False) -> inspect.Signature:
    """An event handler's signature as Gradio reads it: the session state, then `names`,
    which API clients pass by name, each optional (None); then `request`, when asked for,
    which Gradio injects by position."""
    parameters = [inspect.Parameter("state", _KEYWORD),
                  *(inspect.Parameter(name, _KEYWORD, default=None) for name in names)]
    if request:
        parameters.append(inspect.Parameter("request", _KEYWORD, default=None,
                                            annotation=gr.Request | None))  # fmt: skip
    return inspect.Signature(parameters)


def with_signature(signature: inspect.Signature) -> Callable[[Callable], Callable]:
    """Give fn(*args) `signature` for Gradio; fn reads its arguments with signature.bind."""

    def apply(fn: Callable) -> Callable:
        fn.__signature__ = signature  # type: ignore[attr-defined]
        fn.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()
                              if p.annotation is not inspect.Parameter.empty}  # fmt: skip
        return fn

    return apply


def page_state(make: Callable[[], Any]) -> gr.State:
    """A gr.State whose value `make()` gives each page on the first event that reads it.

    Not also at page load: for a callable value Gradio adds a queued load event that writes a
    fresh value, and it can land after another load event (the history restore) has written
    the page's real one, replacing it: a restored history then vanished from the server's
    side of the page, the next result went into a session no reload would find, and Clear
    found nothing to clear. Gradio still calls `make` where a page's state is first read.
    """
    state = gr.State(make)
    state.load_event_to_attach = None  # read in Blocks.attach_load_events, at launch
    return state
