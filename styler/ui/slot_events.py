"""Every image slot checks a file the moment it lands, in the photo box's words: one line
beside the slot says which file and why, the slot lets go of it, and a file browsers cannot
show (TIFF, HEIC, a mislabelled one) is shown through its PNG copy."""

from __future__ import annotations

import functools
from typing import Any

import gradio as gr

from styler.ui.inputs import check_photo
from styler.ui.messages import UserError
from styler.ui.services import Services
from styler.ui.upload_checks import check_files, refusal


def wire_image_slot(services: Services, slot: gr.Image, message: gr.Markdown, what: str) -> None:
    """One image (`what` names it: 'style image 2', 'mask'). Unprocessed (preprocess=False):
    Gradio's own decoding would refuse a bad file in Pillow's words."""
    slot.change(functools.partial(_image_landed, services, what), slot, [slot, message],
                queue=False, api_name=False, preprocess=False,
                show_progress="hidden")  # fmt: skip


def wire_file_slot(services: Services, slot: gr.File, message: gr.Markdown, what: str, *,
                   zips: bool = False) -> None:  # fmt: skip
    """Several files (`zips`: zips of photos too): the refused ones leave the list."""
    slot.upload(functools.partial(_files_landed, services, what, zips), slot, [slot, message],
                queue=False, api_name=False, preprocess=False,
                show_progress="hidden")  # fmt: skip


def _image_landed(services: Services, what: str, payload: dict | None) -> tuple:
    path = (payload or {}).get("path")
    if not path:  # cleared (by a refusal too, whose line stays)
        return gr.skip(), gr.skip()
    try:
        usable = check_photo(services, path, what)
    except UserError as exc:
        return None, refusal(exc)
    return (usable if usable != path else gr.skip()), ""


def _files_landed(services: Services, what: str, zips: bool, payload: Any) -> tuple:
    items = payload if isinstance(payload, list) else [payload] if payload else []
    paths = [item["path"] for item in items if item and item.get("path")]
    usable, refused = check_files(services, paths, what, zips=zips)
    if not refused and usable == paths:
        return gr.skip(), ""
    kept = usable or None
    return kept, "\n\n".join(refused)
