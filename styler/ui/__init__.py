"""The web UI (`styler ui`): a Gradio app over the same engine as the CLI and the API.

Only this package imports gradio, and only in its layout and event modules (app, server,
the *_tab, *_layout and *_events modules, widgets, components, guard); the others
(config, inputs, runs, streaming, results, messages, batch, zips, fusion, effects, queues,
services, state) are plain Python and work without it, so `import styler` and the handler
tests never need the optional `ui` extra.

    from styler.ui import UIConfig, serve
    serve(UIConfig(port=7860))            # blocks until Ctrl-C
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from styler.ui.config import UIConfig

if TYPE_CHECKING:
    from styler.ui.server import Server


def serve(config: UIConfig, *, block: bool = True) -> Server:
    """Start the server (imports gradio); with block=False return it running in the background."""
    from styler.ui.server import serve as _serve

    return _serve(config, block=block)


__all__ = ["UIConfig", "serve"]
