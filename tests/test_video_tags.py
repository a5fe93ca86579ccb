"""A stylized clip keeps what a photo's output keeps of its metadata: date, camera and
credits, the location only on request, nothing with strip-metadata; its sound tracks keep
their language and name (styler.video.tags)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from styler import Recipe, Settings
from styler.imageio import PhotoOptions
from styler.video import stylize_video
from styler.video.tags import clip_tags
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
