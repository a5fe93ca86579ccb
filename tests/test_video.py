"""Video through every face's engine: real clips written by the test (styler/video)."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from styler import CancelToken, Recipe, Settings, build_engine
from styler.batch import stylize_files
from styler.video import (
    FrameStylizer,
    VideoLoadError,
    frame_at,
    probe_clip,
    read_video_settings,
    stylize_video,
)
from styler.video.animation import probe_animation
from styler.video.span import Span, clock, parse_time
from tests.video_clips import (
    counted_pixels,
    decoded,
    moving_pattern,
    played,
    song_with_cover,
    streams,
    write_animation,
    write_clip,
)

GALLERY = Path(__file__).resolve().parents[1] / "gallery"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    return write_clip(folder / "pan.mp4", moving_pattern(64, 48, 10), rate=12)


def test_a_clip_keeps_its_rate_frames_duration_and_sound(tmp_path, clip, tiny_net) -> None:
    out = stylize_video(clip, tmp_path / "pan__warm.mp4", Recipe.create("fast", [tiny_net]))
    assert out.completed and out.output == tmp_path / "pan__warm.mp4"
    before, after = streams(clip), streams(out.output)
    assert after["codec"] == "h264" and after["pix_fmt"] == "yuv420p"
    assert (after["size"], after["rate"], after["frames"]) == ((64, 48), Fraction(12), 10)
    assert abs(after["duration"] - before["duration"]) <= 1 / 12
    (codec, seconds), = after["audio"]
    assert codec == "aac" and abs(seconds - before["audio"][0][1]) <= 1 / 12
    assert Settings.from_file(out.output).mode == "fast"


def test_an_upright_phone_clip_stays_upright(tmp_path, tiny_net) -> None:
    tall = [np.zeros((48, 64, 3), np.uint8) for _ in range(3)]
    for frame in tall:
        frame[:8, :, 0] = 255  # a red band along the stored frame's top
    rotated = write_clip(tmp_path / "phone.mp4", tall, rotation=90)
    assert probe_clip(rotated, max_pixels=10**6).rotation == 90
    recipe = Recipe.create("fast", [tiny_net], strength=0)
    out = stylize_video(rotated, tmp_path / "out.mp4", recipe)
    shown = streams(out.output)
    assert shown["size"] == (48, 64) and shown["rotation"] == 0
    first = decoded(out.output)[0].astype(int)
    assert first[:, :8, 0].mean() > 200 and first[:, -8:, 0].mean() < 60  # the band on the left


def test_a_widescreen_clip_of_wide_pixels_comes_out_as_it_is_shown(tmp_path, tiny_net) -> None:
    """DV and HDV store 16:9 in narrower frames whose pixels are shown wider: the frames are
    painted, and written, at the shape a player shows, in square pixels."""
    stored = [np.zeros((48, 64, 3), np.uint8) for _ in range(3)]
    for frame in stored:
        frame[:, :8, 0] = 255  # a red band 8 stored pixels wide: 16 as shown
    wide = write_clip(tmp_path / "dv.mp4", stored, aspect=Fraction(2))
    info = probe_clip(wide, max_pixels=10**6)
    assert (info.width, info.height, info.stretch) == (128, 48, 2)
    out = stylize_video(wide, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net], strength=0))
    assert streams(out.output)["size"] == (128, 48)
    first = decoded(out.output)[0].astype(int)
    assert first[:, :13, 0].mean() > 200 and first[:, 20:, 0].mean() < 60


def test_an_interlaced_clip_is_painted_progressive(tmp_path, tiny_net) -> None:
    """A camcorder's fields, filmed half a frame apart, woven into each frame: a moving edge
    is a comb of alternate lines, which would be painted as stripes. They are deinterlaced
    as they are read (bwdif), one frame for each, so the count and timing stay."""

    def scene(t: float) -> np.ndarray:
        image = np.full((48, 64, 3), 40, np.uint8)
        left = int(8 + 6 * t)
        image[:, left : left + 16] = 230
        return image

    woven = []
    for t in range(6):
        frame = scene(t)
        frame[1::2] = scene(t + 0.5)[1::2]  # the second field, half a frame later
        woven.append(frame)
    source = write_clip(tmp_path / "camcorder.mp4", woven, interlaced=True)
    assert probe_clip(source, max_pixels=10**6).interlaced

    def comb(rgb: np.ndarray) -> float:
        grey = rgb.astype(float).mean(axis=2)
        return float(np.abs(grey[1:-1] - (grey[:-2] + grey[2:]) / 2).mean())

    out = stylize_video(source, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net], strength=0))
    shown = streams(out.output)
    assert shown["frames"] == 6 and shown["rate"] == Fraction(12)
    combed = np.mean([comb(f) for f in decoded(source)])
    assert np.mean([comb(f) for f in decoded(out.output)]) < 0.3 * combed


def test_the_picture_is_the_clips_video_not_a_thumbnail_before_it(tmp_path, tiny_net) -> None:
    """Some files carry a still (a cover, a thumbnail track) as their first video stream: the
    clip is the stream FFmpeg ranks best, here the second."""
    import av

    source = tmp_path / "with_cover.mkv"
    with av.open(str(source), "w") as container:
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        video = container.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        still = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 200, np.uint8), format="rgb24")
        for stream, frames in ((cover, [still.reformat(format="yuvj420p")]),
                               (video, [av.VideoFrame.from_ndarray(rgb, format="rgb24")
                                        for rgb in moving_pattern(64, 48, 5)])):  # fmt: skip
            for index, frame in enumerate(frames):
                frame.pts = index
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    out = stylize_video(source, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net]))
    shown = streams(out.output)
    assert (shown["size"], shown["frames"]) == ((64, 48), 5)


def test_a_part_of_a_clip_is_painted_from_its_start_with_its_sound(tmp_path, tiny_net) -> None:
    """--start/--end: only the frames on screen within the part, timed from 0, the sound
    cut to it; the same pictures as the whole clip's there (temporal 0: each frame alone)."""
    source = write_clip(tmp_path / "take.mp4", moving_pattern(64, 48, 48), keyframe_every=6)
    recipe = Recipe.create("fast", [tiny_net], temporal=0)
    whole = decoded(stylize_video(source, tmp_path / "whole.mp4", recipe).output)
    out = stylize_video(source, tmp_path / "part.mp4", recipe, span=Span(1.04, 2.5))
    facts = streams(out.output)
    assert out.info.frames == facts["frames"] == 18  # frame 12 (on screen at 1.04 s) to 29
    assert abs(facts["duration"] - 1.5) < 1 / 12
    (codec, seconds), = facts["audio"]
    assert codec == "aac" and abs(seconds - 1.5) <= 1 / 12 + 1024 / 16000  # a packet's cut
    with av.open(str(out.output)) as container:  # from frame 12's own start: whole frames
        times = [frame.time for frame in container.decode(video=0)]
    assert times == pytest.approx([index / 12 for index in range(18)])
    part = decoded(out.output)
    changes = [np.abs(a.astype(int) - b).mean() for a, b in zip(part, whole[12:30], strict=True)]
    assert max(changes) < 3
    assert read_video_settings(out.output)["engine"]["video"]["part"] == [1.04, 2.5]
    to_end = stylize_video(source, tmp_path / "end.mp4", recipe, span=Span(3.5))
    assert streams(to_end.output)["frames"] == 6
    with pytest.raises(VideoLoadError, match=r"take\.mp4: the part asked for starts at 0:05"):
        stylize_video(source, tmp_path / "late.mp4", recipe, span=Span(5))
    assert not (tmp_path / "late.mp4").exists()


def test_a_part_of_an_animation_keeps_what_is_on_screen_within_it(tmp_path, tiny_net) -> None:
    loop = write_animation(tmp_path / "loop.gif", "GIF")  # frames start at 0, 80, 200, 400, 460
    out = stylize_video(loop, tmp_path / "part.gif", Recipe.create("fast", [tiny_net]),
                        span=Span(0.1, 0.41))  # fmt: skip
    assert played(out.output)[1] == [100, 200, 10]  # frames 1-3, cut to the part


def test_times_are_read_as_people_write_them() -> None:
    assert [parse_time(t) for t in ("90", "1:30", "0:01:30.5", " 2.25 ")] == [90, 90, 90.5, 2.25]
    for bad in ("", "1:x", "1::2", "-3", "inf", "1:2:3:4"):
        with pytest.raises(ValueError, match="is not a time"):
            parse_time(bad)
    assert [clock(s) for s in (0, 0.41, 90.5, 3725.25, 59.9999)] == [
        "0:00", "0:00.41", "1:30.5", "1:02:05.25", "1:00"]  # fmt: skip
    with pytest.raises(ValueError, match="must end after it starts"):
        Span(2, 1)
    with pytest.raises(ValueError, match="starts at 0 s or later"):
        Span(-1)


def test_the_frame_at_a_time_is_found_by_seeking(tmp_path, monkeypatch) -> None:
    """frame_at: the frame on screen at a time, in a clip whose keyframes are 5 frames apart
    (so most times are reached by a seek and decoding on), past the end the last one; and
    in an animation, by its frames' durations. Of the frames decoded on the way, only the
    one shown has its pixels made (an HDR frame's cost more than its decoding)."""
    source = write_clip(tmp_path / "long.mp4", moving_pattern(64, 48, 30), keyframe_every=5)
    info, frames = probe_clip(source, max_pixels=10**7), decoded(source)
    made = counted_pixels(monkeypatch)
    for index in (0, 1, 7, 13, 29):
        made.clear()
        assert np.array_equal(frame_at(info, index / 12).rgb, frames[index]), index
        assert len(made) == 1, (index, len(made))
    assert np.array_equal(frame_at(info, 7.4 / 12).rgb, frames[7])  # between two frames
    assert np.array_equal(frame_at(info, 99.0).rgb, frames[-1])
    loop = write_animation(tmp_path / "loop.gif", "GIF")  # frames start at 0, 80, 200, 400 ms
    animation, shown = probe_animation(loop, max_pixels=10**7), played(loop)[3]
    for seconds, index in ((0, 0), (0.079, 0), (0.08, 1), (0.3, 2), (5, 4)):
        assert np.array_equal(frame_at(animation, seconds).rgb, shown[index]), seconds


@pytest.mark.parametrize("size", [(8, 6), (640, 16), (16, 400)], ids=["icon", "strip", "column"])
def test_clips_of_any_shape_are_steadied(tmp_path, tiny_net, size) -> None:
    """OpenCV's DIS refuses frames with a side under about 32 px, and on a 640x16 strip it
    crashed the process (a segfault in its thread): such frames are padded for the flow."""
    width, height = size
    clip = write_clip(tmp_path / "odd.mp4", moving_pattern(width, height, 4))
    out = stylize_video(clip, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net]))
    assert out.completed and streams(out.output)["size"] == size
    assert streams(out.output)["frames"] == 4


def test_temporal_zero_is_each_frame_on_its_own(tiny_net) -> None:
    recipe = Recipe.create("fast", [tiny_net], temporal=0)
    engine = build_engine(recipe)
    stream = FrameStylizer(engine)
    for frame in moving_pattern(64, 48, 4):
        np.testing.assert_array_equal(stream.stylize(frame), np.asarray(engine.run(frame).image))


def test_a_fade_from_black_stays_black_and_fades_in(tiny_net) -> None:
    """A network normalises each frame, so a black frame came out a flat grey: in frames darker
    than video black the painting is dimmed where the frame is dark, steadied or not; brighter
    frames are the painting itself."""
    bright = moving_pattern(64, 48, 1)[0]
    fade = [np.zeros_like(bright), np.zeros_like(bright),
            *[(bright * gain).astype(np.uint8) for gain in (0.02, 0.05, 0.09)], bright]  # fmt: skip
    engine = build_engine(Recipe.create("fast", [tiny_net]))
    assert np.asarray(engine.run(fade[0]).image).mean() > 40  # what the network paints
    assert bright.mean() > 2 * 16 and fade[-2].mean() < 16
    for temporal in (0, 0.6):
        stream = FrameStylizer(engine, temporal=temporal)
        means = [stream.stylize(frame).mean() for frame in fade]
        print(f"temporal {temporal}: output means {np.round(means, 1)}")
        assert means[0] < 1 and means[1] < 1
        assert means[1] < means[2] < means[3] < means[4] < means[5]
    np.testing.assert_array_equal(FrameStylizer(engine, temporal=0).stylize(bright),
                                  np.asarray(engine.run(bright).image))  # fmt: skip
    title = np.zeros_like(bright)  # a title card: white letters on black
    title[20:28, 24:40] = 255
    painted = np.asarray(engine.run(title).image).astype(int)
    shown = FrameStylizer(engine, temporal=0).stylize(title).astype(int)
    assert shown[:12].max() < 2 and painted[:12].mean() > 40  # the ground black, not grey
    assert np.abs(shown[22:26, 28:36] - painted[22:26, 28:36]).max() <= 1  # the letters kept


def test_the_pipelined_form_gives_the_same_frames(tiny_net) -> None:
    """run_ahead leaves each blend to the stream's second thread, beside the next frame's
    painting (stylize_video runs it so): its frames are run()'s, pixel for pixel, and a
    stream may switch between the two."""
    engine = build_engine(Recipe.create("fast", [tiny_net]))
    frames = moving_pattern(64, 48, 6)
    waited = FrameStylizer(engine)
    one_by_one = [waited.stylize(frame) for frame in frames]
    stream = FrameStylizer(engine)
    ahead = [stream.run_ahead(frame)[1] for frame in frames[:4]]
    ahead += [np.asarray(stream.run(frame).image) for frame in frames[4:]]
    for expected, got in zip(one_by_one, ahead, strict=True):
        steadied = got if isinstance(got, np.ndarray) else got.result()
        np.testing.assert_array_equal(steadied, expected)
    painted = np.asarray(engine.run(frames[-1]).image)
    assert np.abs(one_by_one[-1].astype(int) - painted).max() > 0  # the blend did something


def _warping_error(frames: list[np.ndarray], shift: int = 2) -> float:
    """Frame t+1 is frame t moved left by `shift`: how far each output is from its
    predecessor moved the same way (Lai et al. 2018, with the motion known)."""
    errors = [np.abs(b[:, :-shift].astype(float) - a[:, shift:].astype(float)).mean()
              for a, b in zip(frames, frames[1:], strict=False)]  # fmt: skip
    return float(np.mean(errors))


def test_steadied_frames_flicker_less_than_frames_painted_alone() -> None:
    frames = moving_pattern(96, 64, 8)
    engine = build_engine(Recipe.create("instant", [GALLERY / "styles" / "swirls.jpg"]))
    alone = [FrameStylizer(engine, temporal=0).stylize(f) for f in frames]
    stream = FrameStylizer(engine)
    steady = [stream.stylize(f) for f in frames]
    assert _warping_error(steady) < 0.8 * _warping_error(alone)
    # faithful: still the painting's look, not the photo and not a frozen first frame
    assert np.abs(steady[-1].astype(int) - alone[-1]).mean() < 0.5 * np.abs(
        alone[-1].astype(int) - frames[-1]).mean()  # fmt: skip


def test_irregular_timestamps_are_kept(tmp_path, tiny_net) -> None:
    """A variable frame rate: frames at 0, 1, 3, 4, 7 twelfths of a second stay there."""
    import av

    source = tmp_path / "vfr.mp4"
    with av.open(str(source), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        video.time_base = video.codec_context.time_base = Fraction(1, 12)
        for pts, rgb in zip((0, 1, 3, 4, 7), moving_pattern(32, 32, 5), strict=True):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 12)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    out = stylize_video(source, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net]))
    with av.open(str(out.output)) as container:
        times = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    assert np.allclose(times, [0, 1 / 12, 3 / 12, 4 / 12, 7 / 12])


def test_bad_videos_are_one_line_each_and_the_batch_goes_on(tmp_path, clip, tiny_net) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.mp4").write_bytes(clip.read_bytes())
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "text.mov").write_text("not a film")
    (folder / "cut.mp4").write_bytes(clip.read_bytes()[: len(clip.read_bytes()) // 2])
    write_clip(folder / "sound.m4v", [np.zeros((16, 16, 3), np.uint8)], audio_only=True,
               audio_seconds=0.5)  # fmt: skip
    song_with_cover(folder / "song.mp4")  # its artwork is no clip
    summary = stylize_files(folder, tmp_path / "out", Recipe.create("fast", [tiny_net]))
    assert summary.stylized == 1 and [p.name for p in summary.written] == ["good__warm_test.mp4"]
    reasons = {Path(line.split(": ")[0]).name: line for line in summary.failures}
    assert set(reasons) == {"empty.mp4", "text.mov", "cut.mp4", "sound.m4v", "song.mp4"}
    assert "empty file" in reasons["empty.mp4"]
    assert "not a video styler can read" in reasons["text.mov"]
    assert "no video stream (audio only)" in reasons["sound.m4v"]
    assert "no video stream (audio only, with a cover picture)" in reasons["song.mp4"]
    assert all("\n" not in line and "Traceback" not in line for line in summary.failures)
    assert sorted(os.listdir(tmp_path / "out")) == ["good__warm_test.mp4"]


def test_a_clip_over_the_pixel_limit_is_refused_before_decoding(tmp_path, clip, tiny_net) -> None:
    with pytest.raises(VideoLoadError, match="64x48 = 0.0031 MP, over the 0.0010 MP pixel"):
        stylize_video(clip, tmp_path / "x.mp4", Recipe.create("fast", [tiny_net], max_pixels=1000))


def test_a_cancelled_clip_leaves_nothing_under_any_name(tmp_path, clip, tiny_net) -> None:
    cancel = CancelToken()

    def stop_at_three(progress) -> None:
        if progress.step == 3:
            cancel.cancel()

    out = stylize_video(clip, tmp_path / "x.mp4", Recipe.create("fast", [tiny_net]),
                        progress=stop_at_three, cancel=cancel)  # fmt: skip
    assert not out.completed and out.output is None and os.listdir(tmp_path) == []


@pytest.mark.slow
def test_the_cli_writes_a_clip_and_reproduces_it_from_its_settings(
    tmp_path, clip, tiny_net
) -> None:
    def styler(*args: str | Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "styler.cli.main", "stylize", *map(str, args)]
        return subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    made = styler(clip, "--fast", tiny_net, "--strength", "0.7", "--temporal", "0.4", "-o", "out")
    assert made.returncode == 0, made.stderr
    first = tmp_path / made.stdout.strip()
    assert first == tmp_path / "out" / "pan__warm_test.mp4"
    again = styler(clip, "--settings-from", first, "-o", "again")
    assert again.returncode == 0, again.stderr
    second = tmp_path / again.stdout.strip()
    controls = Settings.from_file(second).controls
    assert controls["strength"] == 0.7 and controls["temporal"] == 0.4
    # The same stylized frames; x264 itself does not always give the same bytes twice in a
    # process that also runs the network (docs/video.md), so the decoded frames are compared.
    for a, b in zip(decoded(first), decoded(second), strict=True):
        assert np.abs(a.astype(int) - b).mean() < 3
    skipped = styler(clip, "--fast", tiny_net, "--strength", "0.7", "-o", "out", "--skip-existing")
    assert "0 stylized, 1 skipped" in skipped.stderr
    part = styler(clip, "--fast", tiny_net, "--start", "0:00.25", "--end", "0.5", "-o", "part")
    assert part.returncode == 0, part.stderr
    assert streams(tmp_path / part.stdout.strip())["frames"] == 3  # frames 3-5 of 12 fps
    from_part = styler(clip, "--settings-from", tmp_path / part.stdout.strip(), "-o", "again")
    assert from_part.returncode == 0, from_part.stderr  # its settings give the same part
    assert streams(tmp_path / from_part.stdout.strip())["frames"] == 3
    photo = tmp_path / "photo.png"
    Image.fromarray(moving_pattern(32, 24, 1)[0]).save(photo)
    for inputs, bad, says in (
        ((clip,), ("--start", "1:x"), "argument --start: '1:x' is not a time"),
        ((clip,), ("--start", "2", "--end", "1"), "must end after it starts"),
        ((photo,), ("--start", "1"), "--start/--end are for clips"),
    ):
        refused = styler(*inputs, "--fast", tiny_net, *bad, "-o", "bad")
        assert refused.returncode == 2 and says in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) <= 2  # usage line and the reason
