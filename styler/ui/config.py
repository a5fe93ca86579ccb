"""Server settings for `styler ui`, with the limits that protect a shared machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from styler.controls import CONTROLS
from styler.errors import OptionsError

# The repository's sample photos and style images; absent from a wheel, where the UI simply
# starts without examples.
GALLERY = Path(__file__).resolve().parents[2] / "gallery"

# The server's own pixel limit on uploads, below the engine's max_pixels control (which a
# desktop run may take): 50 MP is a large camera photo; a 16k x 16k bomb is refused.
UI_MAX_PIXELS = 50_000_000
DEFAULT_MAX_UPLOAD_MB = 50.0
DEFAULT_MAX_BATCH_FILES = 200
DEFAULT_MAX_BATCH_MB = 500.0  # uncompressed size of everything in one batch


@dataclass
class UIConfig:
    """Everything `styler ui` can be told; the defaults suit one person on a laptop."""

    host: str = "127.0.0.1"
    port: int = 7860
    device: str = CONTROLS["device"].default
    concurrency: int | None = None  # jobs at once; None: one per device
    max_upload_pixels: int = UI_MAX_PIXELS
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_batch_files: int = DEFAULT_MAX_BATCH_FILES
    max_batch_mb: float = DEFAULT_MAX_BATCH_MB
    gallery: Path = field(default_factory=lambda: GALLERY)
    temp_dir: Path | None = None  # parent of the server's own temporary folder
    prewarm: bool = True  # load VGG19 in the background at start, so the first Quality run is quick
    step_delay: float = 0.0  # seconds added to each optimizer step: slows demos and browser tests
    open_browser: bool = False
    train_photos: Path | None = None  # training photos the Make a style tab offers

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise OptionsError(f"port must be between 0 and 65535, got {self.port}")
        if self.concurrency is not None and self.concurrency < 1:
            raise OptionsError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.max_upload_pixels < 1:
            raise OptionsError(f"max upload pixels must be positive, got {self.max_upload_pixels}")
        if self.max_upload_mb <= 0 or self.max_batch_mb <= 0:
            raise OptionsError("upload limits must be positive")
        if self.max_batch_files < 1:
            raise OptionsError(f"max batch files must be at least 1, got {self.max_batch_files}")
        if self.step_delay < 0:
            raise OptionsError(f"step delay must be >= 0, got {self.step_delay}")
        self.gallery = Path(self.gallery)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def photos(self) -> list[Path]:
        """Sample photos for the examples, sorted by name; empty when there is no gallery."""
        return sorted((self.gallery / "photos").glob("*.jpg"))

    def style_images(self) -> list[Path]:
        return sorted((self.gallery / "styles").glob("*.jpg"))


def parse_pixels(text: str) -> int:
    """'50M', '50e6', '12000000' or '2.5M' -> pixels; for --max-upload-pixels."""
    value = text.strip().lower().replace("_", "")
    scale = 1
    if value.endswith(("mp", "m")):
        value, scale = value.rstrip("p").rstrip("m"), 1_000_000
    elif value.endswith("k"):
        value, scale = value[:-1], 1000
    try:
        pixels = int(float(value) * scale)
    except ValueError as exc:
        raise OptionsError(f"not a pixel count: {text!r} (try 50M or 50000000)") from exc
    if pixels < 1:
        raise OptionsError(f"a pixel limit must be positive, got {text!r}")
    return pixels
