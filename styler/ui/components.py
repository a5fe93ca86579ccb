"""Gradio components the tabs share, set up the way styler needs them."""

from __future__ import annotations

from typing import Any

import gradio as gr


def photo_input(**kwargs: Any) -> gr.Image:
    """gr.Image(type="filepath") whose own decoding errors (a file that is no image) become
    a readable message.

    A wrapped method on the instance rather than a subclass: Gradio writes a .pyi stub next
    to the module of every Component subclass, which must not happen inside a package.
    """
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
