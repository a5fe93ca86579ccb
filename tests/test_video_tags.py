"""A stylized clip keeps what a photo's output keeps of its metadata: date, camera and
credits, the location only on request, nothing with strip-metadata; its sound tracks keep
their language and name (styler.video.tags)."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest

from styler import Recipe, Settings
from styler.imageio import PhotoOptions
from styler.video import stylize_video
from styler.video.span import Span
from styler.video.tags import clip_tags, later_timecode, picture_tags, tag_text
from tests.video_clips import moving_pattern, write_clip

# What an iPhone writes, with an editor's credits and an encoder's name besides.
PHONE_TAGS = {
    "creation_time": "2024-05-01T10:11:12.000000Z",
    "com.apple.quicktime.creationdate": "2024-05-01T12:11:12+0200",
    "com.apple.quicktime.make": "Apple",
    "com.apple.quicktime.model": "iPhone 15",
    "com.apple.quicktime.software": "17.4",
    "com.apple.quicktime.location.ISO6709": "+48.8577+002.2950+035.000/",
    "location": "+48.8577+002.2950/",
    "artist": "Ann Artist",
    "copyright": "2024 Ann Artist",
}
KEPT = ("creation_time", "com.apple.quicktime.creationdate", "com.apple.quicktime.make",
        "com.apple.quicktime.model", "artist", "copyright")  # fmt: skip
WHERE = ("location", "com.apple.quicktime.location.ISO6709")
SOUND = {"language": "fra", "handler_name": "Commentaire"}


@pytest.fixture(scope="module")
def phone_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("phone")
    return write_clip(folder / "IMG_0001.mp4", moving_pattern(64, 48, 4), tags=PHONE_TAGS,
                      sound_tags=SOUND)  # fmt: skip


def tags_of(path: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    with av.open(str(path)) as container:
        return dict(container.metadata), [dict(s.metadata) for s in container.streams]


def test_a_clip_keeps_its_date_camera_and_credits_not_its_location(
    tmp_path, phone_clip, tiny_net
) -> None:
    out = stylize_video(phone_clip, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net]))
    tags, (video, sound) = tags_of(out.output)
    assert {key: tags.get(key) for key in KEPT} == {key: PHONE_TAGS[key] for key in KEPT}
    assert not {*WHERE, "com.apple.quicktime.software"} & tags.keys()
    assert video["creation_time"] == PHONE_TAGS["creation_time"]
    assert {key: sound.get(key) for key in SOUND} == SOUND
    assert Settings.from_file(out.output).mode == "fast"  # the settings beside the tags


def test_the_location_is_kept_on_request(tmp_path, phone_clip, tiny_net) -> None:
    recipe = Recipe.create("fast", [tiny_net], keep_location=True)
    tags, _ = tags_of(stylize_video(phone_clip, tmp_path / "out.mp4", recipe).output)
    assert {key: tags.get(key) for key in WHERE} == {key: PHONE_TAGS[key] for key in WHERE}


def test_strip_metadata_keeps_none_of_the_clips_tags_from_the_cli(
    tmp_path, phone_clip, tiny_net
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "styler.cli.main", "stylize", str(phone_clip), "--fast",
         str(tiny_net), "--strip-metadata", "--keep-location", "-o", str(tmp_path), "-q"],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    tags, (video, sound) = tags_of(Path(run.stdout.strip()))
    assert not (set(PHONE_TAGS) & tags.keys()) and "creation_time" not in video
    assert sound["language"] == "fra"  # which track is which is not the photographer's
    assert Settings.from_file(Path(run.stdout.strip())).mode == "fast"


def test_matroska_tags_are_read_by_their_meaning() -> None:
    source = {"ARTIST": "Ann", "DATE_RECORDED": "2024-05-01", "ENCODER": "Lavf", "LOCATION": "x"}
    assert clip_tags(source, PhotoOptions()) == {"artist": "Ann", "date": "2024-05-01"}
    kept = clip_tags(source, PhotoOptions(keep_location=True))
    assert kept == {"artist": "Ann", "date": "2024-05-01", "location": "x"}


def test_a_cameras_timecode_is_kept_and_a_part_starts_at_its_own(tmp_path, tiny_net) -> None:
    """An editor lays the stylized clip over the take by its timecode: the whole clip keeps
    the camera's; a part from 1.04 s starts on a whole frame, frame 12 (on screen at 1.04 s at
    12 fps), from its own beginning, labelled 12 frames later, every frame a frame long."""
    take = write_clip(tmp_path / "take.mp4", moving_pattern(64, 48, 24), rate=12,
                      video_tags={"timecode": "10:00:59:06"})  # fmt: skip
    recipe = Recipe.create("fast", [tiny_net], strip_metadata=True)  # sync data all the same
    whole = stylize_video(take, tmp_path / "whole.mp4", recipe).output
    part = stylize_video(take, tmp_path / "part.mp4", recipe, span=Span(1.04, None)).output
    with av.open(str(part)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert times == pytest.approx([index / 12 for index in range(12)])
    for path, expected in ((whole, "10:00:59:06"), (part, "10:01:00:06")):
        _, streams = tags_of(path)
        assert streams[0]["timecode"] == expected
        assert any(s.get("handler_name") == "TimeCodeHandler" for s in streams[1:])


def test_drop_frame_timecode_skips_the_labels_a_clock_skips() -> None:
    ntsc, double = Fraction(30000, 1001), Fraction(60000, 1001)
    assert later_timecode("00:00:59;29", 1, ntsc) == "00:01:00;02"  # ;00 and ;01 skipped
    assert later_timecode("00:09:59;29", 1, ntsc) == "00:10:00;00"  # not each tenth minute
    assert later_timecode("00:00:00;00", 17982, ntsc) == "00:10:00;00"  # ten minutes of frames
    assert later_timecode("00:00:59;59", 1, double) == "00:01:00;04"
    assert later_timecode("00:00:59:29", 1, ntsc) == "00:01:00:00"  # non-drop at 29.97
    assert later_timecode("23:59:59:23", 1, Fraction(24)) == "00:00:00:00"
    film = Fraction(24000, 1001)  # 23.976 never drops labels, whatever the separator
    assert later_timecode("00:00:59;23", 1, film) == "00:01:00;00"
    assert later_timecode("not a timecode", 5, Fraction(24)) == "not a timecode"


def test_chapters_are_kept_and_a_part_keeps_those_within_it(tmp_path, tiny_net) -> None:
    """Each chapter of a Matroska film keeps its start (one more fills the time before the
    first, as MP4 starts its chapters at 0), an untitled one is named as players name it, and
    none outlasts the clip."""
    marks = [(0.25, 0.5, "Intro"), (0.5, 1.5, ""), (1.5, 2.0, "End"), (2.5, 5.0, "After")]
    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 24), rate=12,
                      chapters=marks)  # fmt: skip
    recipe = Recipe.create("fast", [tiny_net])
    whole = stylize_video(film, tmp_path / "whole.mp4", recipe).output
    part = stylize_video(film, tmp_path / "part.mp4", recipe, span=Span(1.0, None)).output

    def chapters(path: Path) -> list[tuple[float, float, str]]:
        with av.open(str(path)) as container:
            return [(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                     c["metadata"].get("title")) for c in container.chapters()]  # fmt: skip

    assert chapters(whole) == [(0.0, 0.25, "Chapter 1"), (0.25, 0.5, "Intro"),
                               (0.5, 1.5, "Chapter 3"), (1.5, 2.0, "End")]  # fmt: skip
    assert chapters(part) == [(0.0, 0.5, "Chapter 1"), (0.5, 1.0, "End")]


def test_a_timecode_is_found_where_matroska_keeps_it() -> None:
    assert picture_tags({"TIMECODE": "10:00:00:10"}, {})["timecode"] == "10:00:00:10"
    assert picture_tags({"DURATION": "1"}, {"TIMECODE": "01:00:00:00"})["timecode"] == (
        "01:00:00:00")  # fmt: skip
    assert "timecode" not in picture_tags({"language": "eng"}, {"title": "x"})


def test_tags_written_in_latin_1_are_read_as_such(tmp_path, tiny_net) -> None:
    """An older tool's Latin-1 artist comes out as it was meant ('Café'), not with its
    accented letters dropped."""
    made = write_clip(tmp_path / "made.mp4", moving_pattern(64, 48, 3), tags={"artist": "Cafe"},
                      sound_tags={"handler_name": "Munchen"})  # fmt: skip
    data = made.read_bytes().replace(b"Cafe", b"Caf\xe9").replace(b"Munchen", b"M\xfcnchen")
    (tmp_path / "old.mp4").write_bytes(data)
    recipe = Recipe.create("fast", [tiny_net])
    tags, (_, sound) = tags_of(stylize_video(tmp_path / "old.mp4", tmp_path / "out.mp4",
                                             recipe).output)  # fmt: skip
    assert tags["artist"] == "Café" and sound["handler_name"] == "München"


def test_tags_and_captions_share_one_reading_of_older_encodings() -> None:
    """Windows' curly quotes and euro sign (bytes Latin-1 leaves as control codes) read as
    they were written, in a tag as in a caption; bytes neither defines still read."""
    def read(raw: bytes) -> str:
        return tag_text(raw.decode("utf-8", "surrogateescape"))

    assert read(b"\x93Caf\xe9\x94 \x80") == "\u201cCafé\u201d €"
    assert read(b"\x81") == "\x81"
