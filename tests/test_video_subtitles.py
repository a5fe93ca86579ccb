"""A clip's text subtitles come out in its stylized MP4: their words, times, italics,
language, name and flags; captions on screen together stacked, none past the picture's end,
cut to a part where only a part is painted."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from styler import Recipe
from styler.video import stylize_video
from styler.video.languages import mp4_language
from styler.video.reader import probe_clip
from styler.video.span import Span
from styler.video.subtitles import _without_drawings
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



def test_captions_shown_together_are_stacked_while_they_share(tmp_path, recipe) -> None:
    """mov_text shows one sample at a time: a caption over another (a sign above the
    dialogue, two speakers) was pushed after it, up to a second late and past the picture,
    or shown for 0 ms."""
    marks = [(0.2, 1.6, "long one"), (0.5, 1.0, "short inside"), (0.5, 1.2, "same start"),
             (1.2, 1.9, "overlaps end")]  # fmt: skip
    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 24), captions=marks)
    out = stylize_video(film, tmp_path / "film.mp4", recipe).output
    assert captions_of(out) == [
        (0.2, 0.5, "long one"), (0.5, 1.0, "long one\nshort inside\nsame start"),
        (1.0, 1.2, "long one\nsame start"), (1.2, 1.6, "long one\noverlaps end"),
        (1.6, 1.9, "overlaps end"),
    ]  # fmt: skip


def test_captions_end_with_the_picture(tmp_path, recipe) -> None:
    """Captions past a 2-second picture made the file 11 seconds long."""
    marks = [(1.5, 6.0, "runs past the end"), (10.0, 11.0, "way after")]
    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 24), captions=marks)
    out = stylize_video(film, tmp_path / "film.mp4", recipe).output
    assert captions_of(out) == [(1.5, 2.0, "runs past the end")]
    with av.open(str(out)) as container:
        assert container.duration / av.time_base < 2.2


def test_a_part_keeps_the_caption_showing_where_matroska_seeks_past_it(tmp_path, recipe) -> None:
    """Matroska seeks to a cluster: a caption stored before the part's keyframe was never
    read, and the part lost it."""
    marks = [(0.5, 4.5, "spans the seek"), (5.0, 5.5, "in part")]
    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 72), keyframe_every=24,
                      captions=marks)  # fmt: skip
    out = stylize_video(film, tmp_path / "part.mp4", recipe, span=Span(3.0, 6.0)).output
    assert captions_of(out) == [(0.0, 1.5, "spans the seek"), (2.0, 2.5, "in part")]


def test_a_track_keeps_its_flags_and_its_language_in_mp4s_letters(tmp_path, recipe) -> None:
    """A forced track (a film's foreign lines) stays forced; "pt-BR", which MP4 cannot
    store, is written as "por" (it was dropped); Windows' Western encoding is read as such
    (the caption was dropped)."""
    flags = av.stream.Disposition.forced | av.stream.Disposition.default
    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 24), caption_flags=flags,
                      captions=[(0.2, 0.9, "Caf\xe9 cr\xe8me \x93quoted\x94".encode("latin-1"))],
                      caption_tags={"language": "pt-BR"})  # fmt: skip
    out = stylize_video(film, tmp_path / "film.mp4", recipe).output
    assert captions_of(out) == [(0.2, 0.9, "Café crème \u201cquoted\u201d")]
    with av.open(str(out)) as container:
        (track,) = container.streams.subtitles
        assert track.disposition & av.stream.Disposition.forced
        assert track.metadata["language"] == "por"


def test_languages_are_given_in_the_three_letters_mp4_stores() -> None:
    assert [mp4_language(tag) for tag in ("en", "pt-BR", "zh-Hans", "fre", "de_DE", "", "xx",
                                          "English")] == [  # fmt: skip
        "eng", "por", "zho", "fre", "deu", "und", "und", "und"]


def test_an_ass_drawing_is_not_shown_as_its_coordinates() -> None:
    assert _without_drawings(r"{\p1}m 0 0 l 100 0 100 100{\p0}Sign") == r"{\p1}{\p0}Sign"
    assert _without_drawings(r"{\i1}Plain{\i0} text") == r"{\i1}Plain{\i0} text"
