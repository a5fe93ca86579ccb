"""styler: neural style transfer and image fusion.

The engine (VGG19 features, losses, optimizer, fast and instant modes, image I/O)
imports no UI code; the CLI, the Gradio UI, Ray and this API are thin layers over it,
through one contract: a Recipe, build_engine(recipe), engine.run(image) (styler.engine).
"""

from styler.api import Stylizer, build_options, stylize
from styler.engine import Engine, build_engine
from styler.errors import OptionsError, StylerError, WeightsError
from styler.evaluate import Distances, distances
from styler.fast.inference import FastOptions, FastStylizer
from styler.imageio import ImageLoadError, ImageSaveError, load_image, read_settings, save_image
from styler.instant.stylizer import InstantOptions, InstantStylizer
from styler.optimize import OptimizeOptions
from styler.progress import CancelToken, Progress
from styler.recipe import Recipe
from styler.reproduce import stylize_like
from styler.result import StylizeResult
from styler.scale import stylize_on_ray
from styler.settings import Settings, SettingsError
from styler.video import FrameStylizer, stylize_video

__all__ = [
    "CancelToken",
    "Distances",
    "Engine",
    "FastOptions",
    "FastStylizer",
    "FrameStylizer",
    "ImageLoadError",
    "ImageSaveError",
    "InstantOptions",
    "InstantStylizer",
    "OptimizeOptions",
    "OptionsError",
    "Progress",
    "Recipe",
    "StylerError",
    "StylizeResult",
    "Stylizer",
    "WeightsError",
    "build_engine",
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
    "stylize_video",
]
