"""styler: neural style transfer and image fusion.

The engine (VGG19 features, losses, optimizer, fast and instant modes, image I/O)
imports no UI code; the CLI, the Gradio UI, Ray and this API are thin layers over it,
through one contract: a Recipe, build_engine(recipe), engine.run(image) (styler.engine).

Each name below is imported from its module on first use, so `import styler` (and the
command line) loads PyTorch only where a mode that needs it runs (docs/performance.md,
"Start-up").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from styler.lazy import lazy_attributes

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ imports them
    from styler.api import Stylizer, build_options, stylize  # noqa: F401
    from styler.engine import Engine, build_engine  # noqa: F401
    from styler.errors import (  # noqa: F401
        InvalidOption,
        OptionsError,
        StylerError,
        UnknownOption,
        WeightsError,
    )
    from styler.evaluate import Distances, distances  # noqa: F401
    from styler.fast.inference import FastOptions, FastStylizer  # noqa: F401
    from styler.imageio import (  # noqa: F401
        ImageLoadError,
        ImageSaveError,
        load_image,
        read_settings,
        save_image,
    )
    from styler.instant.stylizer import InstantOptions, InstantStylizer  # noqa: F401
    from styler.machine_facts import MachineReport, machine_report  # noqa: F401
    from styler.optimize import OptimizeOptions  # noqa: F401
    from styler.progress import CancelToken, Progress  # noqa: F401
    from styler.recipe import Recipe  # noqa: F401
    from styler.reproduce import stylize_like  # noqa: F401
    from styler.result import StylizeResult  # noqa: F401
    from styler.scale import stylize_on_ray  # noqa: F401
    from styler.settings import Settings, SettingsError  # noqa: F401
    from styler.video import FrameStylizer, stylize_video  # noqa: F401

# Each public name and the module that defines it.
_HOMES = {
    "CancelToken": "styler.progress",
    "Distances": "styler.evaluate",
    "Engine": "styler.engine",
    "FastOptions": "styler.fast.inference",
    "FastStylizer": "styler.fast.inference",
    "FrameStylizer": "styler.video",
    "ImageLoadError": "styler.imageio",
    "ImageSaveError": "styler.imageio",
    "InstantOptions": "styler.instant.stylizer",
    "InstantStylizer": "styler.instant.stylizer",
    "InvalidOption": "styler.errors",
    "MachineReport": "styler.machine_facts",
    "OptimizeOptions": "styler.optimize",
    "OptionsError": "styler.errors",
    "Progress": "styler.progress",
    "Recipe": "styler.recipe",
    "StylerError": "styler.errors",
    "StylizeResult": "styler.result",
    "Stylizer": "styler.api",
    "UnknownOption": "styler.errors",
    "WeightsError": "styler.errors",
    "build_engine": "styler.engine",
    "build_options": "styler.api",
    "distances": "styler.evaluate",
    "load_image": "styler.imageio",
    "machine_report": "styler.machine_facts",
    "read_settings": "styler.imageio",
    "save_image": "styler.imageio",
    "Settings": "styler.settings",
    "SettingsError": "styler.settings",
    "stylize": "styler.api",
    "stylize_like": "styler.reproduce",
    "stylize_on_ray": "styler.scale",
    "stylize_video": "styler.video",
}

__all__ = list(_HOMES)


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES)
