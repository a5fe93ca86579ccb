"""The web UI (`styler ui`): a Gradio app over the same engine as the CLI and the API.

Only this package imports gradio, and only in `styler.ui.app`; the other modules here
(settings, sessions, handlers, batch zips) are plain Python and work without it, so
`import styler` and the handler tests never need the optional `ui` extra.

    from styler.ui import UIConfig, serve
    serve(UIConfig(port=7860))            # blocks until Ctrl-C
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from styler.ui.config import UIConfig

if TYPE_CHECKING:
    from styler.ui.app import Server


def serve(config: UIConfig, *, block: bool = True) -> Server:
    """Start the server (imports gradio); with block=False return it running in the background."""
    from styler.ui.app import serve as _serve

    return _serve(config, block=block)


__all__ = ["UIConfig", "serve"]
