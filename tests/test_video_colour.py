"""Colours through a clip: what a viewer sees of the source comes in, what styler paints
goes out tagged so a player shows it (styler.video.colour). The clips are encoded here from
known RGB patches with the matrix, range and transfer function named, as cameras, phones
and editors write them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import Colorspace

from styler.video.reader import ClipReader, Frame, probe_clip
from styler.video.writer import ClipWriter
from tests.video_clips import BT2020_10, HLG, PQ, hdr_signal, wide_sdr_signal, yuv_clip

PATCHES = [(200, 40, 40), (40, 180, 60), (40, 60, 200), (210, 190, 50), (180, 110, 150),
           (80, 150, 190), (128, 128, 128), (20, 20, 20)]  # fmt: skip


def patches(width: int, height: int, colours=PATCHES) -> np.ndarray:
    rgb = np.zeros((height, width, 3), np.uint8)
    step = width // len(colours)
    for index, colour in enumerate(colours):
        rgb[:, index * step : (index + 1) * step] = colour
    return rgb


def centres(rgb: np.ndarray, count: int = len(PATCHES)) -> np.ndarray:
    step = rgb.shape[1] // count
    return rgb[rgb.shape[0] // 2, step // 2 :: step][:count].astype(int)


def read_first(path: Path) -> np.ndarray:
    info = probe_clip(path, max_pixels=10**8)
    with ClipReader(info) as reader:
        return next(item.rgb for item in reader.items() if isinstance(item, Frame))


@pytest.mark.parametrize(("width", "matrix"), [(1280, "bt709"), (640, "bt601")])
def test_an_untagged_clip_is_read_as_players_read_it(tmp_path, width, matrix) -> None:
    """HD sizes with BT.709, smaller ones with BT.601: an untagged 720p clip written with
    BT.709 came in with its greens over 20 levels duller when FFmpeg's BT.601 was taken."""
    rgb = patches(width, 48)
    clip = yuv_clip(tmp_path / "untagged.mp4", rgb / 255.0, matrix, tagged=False)
    assert np.abs(centres(read_first(clip)) - centres(rgb)).max() <= 3


def test_a_tagged_clip_is_read_by_its_tags(tmp_path) -> None:
    rgb = patches(640, 48)  # an SD size: only the tag says BT.709
    clip = yuv_clip(tmp_path / "tagged.mp4", rgb / 255.0, "bt709")
    assert np.abs(centres(read_first(clip)) - centres(rgb)).max() <= 3


def test_output_says_bt709_and_a_player_shows_the_painted_colours(tmp_path) -> None:
    """Browsers show an untagged HD clip by BT.709: the output is encoded by it and says so."""
    rgb = patches(1280, 48)
    source = yuv_clip(tmp_path / "source.mp4", rgb / 255.0, "bt709")
    info = probe_clip(source, max_pixels=10**8)
    writer = ClipWriter(tmp_path / "out.mp4", info, [], {})
    with ClipReader(info) as reader:
        for item in reader.items():
            if isinstance(item, Frame):
                writer.write_frame(item.rgb, item)
    out = writer.commit()
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        tags = (frame.colorspace, frame.color_primaries, frame.color_trc, frame.color_range)
        seen = frame.reformat(format="rgb24", src_colorspace=Colorspace.ITU709).to_ndarray()
    assert tags == (1, 1, 1, 1)
    assert np.abs(centres(seen) - centres(rgb)).max() <= 4


@pytest.mark.parametrize("transfer", [HLG, PQ], ids=["HLG", "PQ"])
def test_hdr_phone_clips_come_in_as_sdr(tmp_path, transfer) -> None:
    """10-bit BT.2020 HLG and PQ, as phones record: the SDR picture they stand for, not the
    flat grey one their signal makes when read as SDR; highlights roll off under white."""
    rgb = patches(640, 48)
    signal = hdr_signal(rgb.astype(np.float64), transfer)
    peak = np.full((48, 80, 3), 1.0 if transfer == HLG else 0.75)  # 1000 cd/m2
    clip = yuv_clip(tmp_path / "hdr.mp4", np.concatenate([signal, peak], axis=1), "bt2020",
                    bits=10, transfer=transfer)  # fmt: skip
    seen = read_first(clip)
    assert np.abs(centres(seen[:, :640]) - centres(rgb)).max() <= 4
    as_sdr = np.round(signal * 255)  # what reading the signal as SDR gives: the old picture
    assert np.abs(centres(as_sdr) - centres(rgb)).max() > 40
    highlight = seen[24, 680]
    assert highlight.min() >= 245 and highlight.max() <= 255


def test_sdr_clips_in_bt2020s_gamut_have_their_colours_mapped(tmp_path) -> None:
    """A camera's 10-bit SDR in BT.2020 (primaries tagged, a BT.2020 transfer): its colours
    as they are, not the duller ones its values give when taken for BT.709's."""
    rgb = patches(640, 48)
    signal = wide_sdr_signal(rgb.astype(np.float64))
    clip = yuv_clip(tmp_path / "wide.mp4", signal, "bt2020", bits=10, transfer=BT2020_10)
    assert np.abs(centres(read_first(clip)) - centres(rgb)).max() <= 4
    as_bt709 = np.round(signal * 255)  # its values read as BT.709's: what came in before
    assert np.abs(centres(as_bt709) - centres(rgb)).max() > 20
