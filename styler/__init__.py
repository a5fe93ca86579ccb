"""styler: neural style transfer and image fusion.

The engine (VGG19 features, losses, optimizer, fast and instant modes, image I/O)
imports no UI code; the CLI, the Gradio UI and this API are thin layers over it.
"""

from styler.api import Stylizer, StylizeResult, build_options, stylize
from styler.errors import OptionsError, StylerError, WeightsError
from styler.evaluate import Distances, distances
from styler.fast.inference import FastOptions, FastStylizer
from styler.imageio import ImageLoadError, ImageSaveError, load_image, read_settings, save_image
from styler.instant.stylizer import InstantOptions, InstantStylizer
from styler.optimize import OptimizeOptions
from styler.progress import CancelToken, Progress
from styler.reproduce import stylize_like
from styler.scale import stylize_on_ray
from styler.settings import Settings, SettingsError

__all__ = [
    "CancelToken",
    "Distances",
    "FastOptions",
    "FastStylizer",
    "ImageLoadError",
    "ImageSaveError",
    "InstantOptions",
    "InstantStylizer",
    "OptimizeOptions",
    "OptionsError",
    "Progress",
    "StylerError",
    "StylizeResult",
    "Stylizer",
    "WeightsError",
    "build_options",
    "distances",
    "load_image",
    "read_settings",
    "save_image",
    "Settings",
    "SettingsError",
    "stylize",
    "stylize_like",
    "stylize_on_ray",
]
