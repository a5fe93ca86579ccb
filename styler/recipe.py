"""What to paint, whatever the face: a Recipe is a mode, its styles, blend, regions and every
control's value, checked against the control registry (styler.controls).

The CLI makes one from its arguments, the API from keywords, the UI from its widgets, and a
result's settings make one too (`Recipe.from_settings`): a result records its images by
name, with the path and sha256 each had (styler.settings), and a reproduction looks for each
where it was, then by name beside the result, then in the working folder, and refuses a file
of that name whose content differs. styler.engine.build_engine turns a recipe into an
engine; nothing here loads a model or decodes an image.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from styler.controls import FAST, MODE_NAMES, OPTIMIZE, check_mode, checked, defaults
from styler.errors import OptionsError, StylerError
from styler.fast.blend import normalised_weights
from styler.settings import Settings, file_digest, image_name

# (mask, style or None): a region of the photo with its own style; None keeps the photo.
Region = tuple[Any, Any]


class MissingImage(StylerError):
    """An image the settings name cannot be found; the caller has to pass it."""

    def __init__(self, name: str, what: str, searched: Sequence[Path]) -> None:
        self.name, self.what, self.searched = name, what, list(searched)
        if name.startswith("<"):  # an array or image passed in memory: never a file
            super().__init__(f"the {what} of these settings was passed in memory ({name}), "
                             "not as a file: pass it again")  # fmt: skip
            return
        where = ", ".join(str(folder) for folder in self.searched) or "nowhere"
        super().__init__(f"{what} {name!r} named in the settings is not in {where}")


class ChangedImage(MissingImage):
    """Files of the right name exist, but none has the content the result was made with."""

    def __init__(self, name: str, what: str, changed: Sequence[Path]) -> None:
        self.name, self.what, self.searched = name, what, list(changed)
        found = ", ".join(str(path) for path in changed)
        StylerError.__init__(self, f"{what} {name!r} named in the settings differs from the one "
                             f"the result was made with (sha256 of {found})")  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """A mode, its styles and every control's value: all a run needs but the photo.

    styles: image files, PIL images or arrays in optimizer and instant mode; shipped style
    names or .safetensors files in fast mode. controls: every control of the mode, checked,
    the registry's defaults filled in (`Recipe.create` does both).
    """

    mode: str
    styles: tuple[Any, ...]
    controls: Mapping[str, Any]
    blend: tuple[float, ...] | None = None  # None: equal weights
    regions: tuple[Region, ...] = ()
    init_image: Any = None  # optimizer mode's `init image` start

    @classmethod
    def create(
        cls,
        mode: str,
        styles: Any,
        *,
        blend: Sequence[float] | None = None,
        regions: Sequence[Region] = (),
        init_image: Any = None,
        **controls: Any,
    ) -> Recipe:
        """A checked recipe: unknown controls, controls of another mode, out-of-range values,
        a blend of the wrong length and an init image outside optimizer mode are OptionsError."""
        check_mode(mode)
        listed = tuple(styles) if isinstance(styles, list | tuple) else (styles,)
        kind = "fast network" if mode == FAST else "style image"
        if not listed:
            raise OptionsError(f"at least one {kind} is needed")
        if mode == FAST and not all(isinstance(style, str | os.PathLike) for style in listed):
            raise OptionsError(f"a fast network is a name or a file, not {_given(listed)}")
        if blend is not None:
            normalised_weights(blend, len(listed), kind)  # checked; the weights kept as given
            blend = tuple(float(weight) for weight in blend)
        if init_image is not None and mode != OPTIMIZE:
            raise OptionsError(f"an init image has no effect in {MODE_NAMES[mode]}")
        values = {**defaults(mode, recorded_only=False), **checked(mode, controls)}
        if mode == OPTIMIZE and values.get("init") == "image" and init_image is None:
            raise OptionsError("init 'image' starts from an init image: give one (--init-image)")
        if init_image is not None and values.get("init") in ("content", "noise"):
            raise OptionsError(f"an init image has no effect with init {values['init']!r}: "
                               "give init 'image' (--init image) to start from it")  # fmt: skip
        if not all(isinstance(region, list | tuple) and len(region) == 2 for region in regions):
            raise OptionsError("each region is a (mask, style) pair")
        return cls(mode, listed, values, blend, tuple((m, s) for m, s in regions), init_image)

    @classmethod
    def from_settings(
        cls, settings: Settings, search: Sequence[str | os.PathLike] = ()
    ) -> Recipe:
        """The recipe a result's settings describe, its images found (MissingImage or
        ChangedImage when one cannot be): where each was made, then in the `search` folders."""
        finder = _Finder(settings, [Path(folder) for folder in search])
        styles = [finder.style(name) for name in settings.styles]
        regions = [(finder.find(region.mask, "region mask"),
                    None if region.style is None else finder.style(region.style))
                   for region in settings.regions]  # fmt: skip
        init = None if settings.init_image is None else finder.find(settings.init_image,
                                                                     "init image")  # fmt: skip
        return cls.create(settings.mode, styles, blend=settings.blend, regions=regions,
                          init_image=init, **settings.controls)  # fmt: skip

    @property
    def names(self) -> list[str]:
        """The styles' names in output file names: a file's stem, else 'style<N>'."""
        return [_stem(style, number) for number, style in enumerate(self.styles, start=1)]

    def with_controls(self, **controls: Any) -> Recipe:
        """This recipe with some controls changed (checked)."""
        return replace(self, controls={**self.controls, **checked(self.mode, controls)})


def _given(styles: tuple[Any, ...]) -> str:
    """What was given where a name or a file was expected, for an error line."""
    wrong = next(style for style in styles if not isinstance(style, str | os.PathLike))
    return repr(wrong)[:40]


def _stem(style: Any, number: int) -> str:
    name = image_name(style)
    return f"style{number}" if name.startswith("<") else Path(name).stem


class _Finder:
    """Looks up the images a result's settings name (see the module's docstring)."""

    def __init__(self, settings: Settings, folders: list[Path]) -> None:
        self.settings, self.folders = settings, folders

    def style(self, name: str) -> str:
        """A style as recorded: a fast mode's shipped name stays a name, files are found."""
        if self.settings.mode == FAST and not name.endswith(".safetensors"):
            return name
        return self.find(name, "network" if self.settings.mode == FAST else "style image")

    def find(self, name: str, what: str) -> str:
        if name.startswith("<"):  # an array or image the caller passed in memory: never on disk
            raise MissingImage(name, what, [])
        record = self.settings.files.get(name, {})
        candidates = [Path(record["path"])] if "path" in record else []
        candidates += [folder / name for folder in self.folders]
        changed = []
        for candidate in dict.fromkeys(candidates):
            if not candidate.is_file():
                continue
            if "sha256" not in record or file_digest(candidate) == record["sha256"]:
                return str(candidate)
            changed.append(candidate)
        if changed:
            raise ChangedImage(name, what, changed)
        raise MissingImage(name, what, [path.parent for path in candidates])
