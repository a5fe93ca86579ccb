"""A clip's text subtitles come out in its stylized MP4: their words, times, italics,
language and name, cut to a part where only a part is painted."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from styler import Recipe
from styler.video import stylize_video
from styler.video.reader import probe_clip
from styler.video.span import Span
from tests.video_clips import captions_of, moving_pattern, write_clip

# Two captions over a 2-second clip at 12 fps, the second of two lines with an accent.
CAPTIONS = [(0.25, 0.9, "Hello <i>there</i>"), (1.0, 1.75, "Café\nsecond line")]
FRENCH = {"language": "fra", "title": "Français"}


@pytest.fixture(scope="module")
def recipe(tiny_net: Path) -> Recipe:
    return Recipe.create("fast", [tiny_net])


def test_subrip_from_matroska_is_kept_as_mp4_timed_text(tmp_path, recipe) -> None:
    """SubRip, as films in Matroska carry it: the same words at the same times, the italics
    as italics, the track's language and name (before, every subtitle track was lost)."""
    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 24), captions=CAPTIONS,
                      caption_tags=FRENCH)  # fmt: skip
    assert probe_clip(film, max_pixels=10**6).subtitles == ["fra"]
    out = stylize_video(film, tmp_path / "film.mp4", recipe).output
    assert captions_of(out) == [(0.25, 0.9, "Hello {\\i1}there"), (1.0, 1.75, "Café\nsecond line")]
    with av.open(str(out)) as container:
        (track,) = container.streams.subtitles
        assert track.codec_context.name == "mov_text"
        assert track.metadata["language"] == "fra"
        assert track.metadata["handler_name"] == "Français"


def test_an_mp4s_own_subtitles_are_kept_and_a_part_keeps_those_on_screen_within_it(
    tmp_path, recipe
) -> None:
    """A part from 0.5 s to 1.5 s keeps the first caption from the part's start (it is on
    screen then) and the second up to the part's end, on the part's clock."""
    clip = write_clip(tmp_path / "clip.mp4", moving_pattern(64, 48, 24),
                      captions=[(0.25, 0.9, "Hello"), (1.0, 1.75, "Café")])  # fmt: skip
    whole = stylize_video(clip, tmp_path / "whole.mp4", recipe).output
    assert captions_of(whole) == [(0.25, 0.9, "Hello"), (1.0, 1.75, "Café")]
    part = stylize_video(clip, tmp_path / "part.mp4", recipe, span=Span(0.5, 1.5)).output
    assert captions_of(part) == [(0.0, 0.4, "Hello"), (0.5, 1.0, "Café")]

