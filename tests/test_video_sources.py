"""Clips as cameras, old tools and webcams make them: AVI's decode-order times, PCM sound
with no channel layout, a resolution that changes part way, names with colons, frames of a
new size in the frame stream, and a video given where a photo is expected."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from styler import Recipe
from styler.imageio import ImageLoadError, load_image
from styler.video import FrameStylizer, VideoLoadError, stylize_video
from styler.video.clip import frame_at
from styler.video.reader import ClipReader, Frame, probe_clip
from styler.video.span import Span
from tests.video_clips import decoded, moving_pattern, streams, write_clip


def _encoded(path: Path, frames: list[np.ndarray], *, rate: int = 12,
             pcm: bool = False) -> Path:  # fmt: skip
    """H.264 frames in whatever container path's extension names, with x264's default B-frames;
    `pcm`: a second of 16-bit PCM sound in stereo, stored (as Matroska and AVI do) with a
    channel count but no layout."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=rate)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=16000, layout="stereo") if pcm else None
        for rgb in frames:
            container.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(video.encode(None))
        if sound is not None:
            tone = (3000 * np.sin(np.arange(16000) / 5)).astype(np.int16)
            chunk = av.AudioFrame.from_ndarray(np.repeat(tone, 2)[None], format="s16",
                                               layout="stereo")  # fmt: skip
            chunk.sample_rate, chunk.pts = 16000, 0
            container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return path


def _shifts(frames: list[np.ndarray]) -> list[float]:
    """How far each frame's picture moved from the frame before, in px along x (a
    stylized picture's texture moves a little less than its scene)."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
    return [cv2.phaseCorrelate(a, b)[0][0] for a, b in zip(gray, gray[1:], strict=False)]


def test_an_avi_with_b_frames_keeps_its_frames_in_order(tmp_path, tiny_net) -> None:
    """AVI keeps no presentation times: its packets' times rise in file order, so its frames
    came out of the decoder with times shuffled (1, 4, 3, 5, 2, ...) and the muxer refused
    them; the k-th frame shown is now shown at the k-th packet's time."""
    pan = moving_pattern(64, 48, 24, shift=2)
    source = _encoded(tmp_path / "pan.avi", pan)
    with av.open(str(source)) as container:
        shuffled = [f.pts for f in container.decode(video=0)]
    assert shuffled != sorted(shuffled)  # the case this test is about
    out = stylize_video(source, tmp_path / "pan.mp4", Recipe.create("fast", [tiny_net]))
    after = streams(out.output)
    assert after["frames"] == 24 and abs(after["duration"] - 2.0) <= 1 / 12
    # the pan moves 2 px a frame, every frame the same way (shuffled frames jump both ways)
    assert all(-2.5 < shift < -1 for shift in _shifts(decoded(out.output)))


def test_pcm_sound_with_no_channel_layout_becomes_aac(tmp_path, tiny_net) -> None:
    source = _encoded(tmp_path / "pcm.mkv", moving_pattern(32, 32, 12), pcm=True)
    with av.open(str(source)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "2 channels"
    out = stylize_video(source, tmp_path / "pcm.mp4", Recipe.create("fast", [tiny_net]))
    (codec, seconds), = streams(out.output)["audio"]
    assert codec == "aac" and abs(seconds - 1.0) <= 1 / 12
    with av.open(str(out.output)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "stereo"


def test_a_clip_whose_resolution_changes_is_painted_at_its_first_size(tmp_path, tiny_net) -> None:
    """Transport streams joined end to end (as recorders and broadcasts switch resolution):
    the later, larger frames are fitted into the first ones' size."""
    first = _encoded(tmp_path / "a.ts", moving_pattern(64, 48, 6)).read_bytes()
    second = _encoded(tmp_path / "b.ts", moving_pattern(96, 64, 6)).read_bytes()
    source = tmp_path / "joined.ts"
    source.write_bytes(first + second)
    out = stylize_video(source, tmp_path / "joined.mp4", Recipe.create("fast", [tiny_net]))
    after = streams(out.output)
    assert after["size"] == (64, 48) and after["frames"] == 12


def test_frames_a_pixel_off_the_first_size_are_stretched_not_barred(tmp_path) -> None:
    """A switch to a size whose fit leaves a bar of a pixel or two (sizes rounded to even
    numbers differently): that bar was painted as a line along the edge (found by QA)."""
    first = _encoded(tmp_path / "a.ts", moving_pattern(64, 36, 3)).read_bytes()
    second = _encoded(tmp_path / "b.ts", moving_pattern(48, 26, 3)).read_bytes()  # 64x35 fits
    source = tmp_path / "joined.ts"
    source.write_bytes(first + second)
    with ClipReader(probe_clip(source, max_pixels=10**7)) as reader:
        frames = [item.rgb for item in reader.items() if isinstance(item, Frame)]
    assert len(frames) == 6 and all(frame.shape == (36, 64, 3) for frame in frames)
    assert frames[-1][-1].mean() > 40 and frames[-1][0].mean() > 40  # no black row


def test_a_name_with_a_colon_is_a_file_not_a_protocol(tmp_path, tiny_net, monkeypatch) -> None:
    """FFmpeg reads a relative name's part before a colon as a protocol: a camera's
    timestamped name ("2024-05-06T12:30:00.mp4") was 'Protocol not found'."""
    monkeypatch.chdir(tmp_path)
    write_clip(tmp_path / "2024-05-06T12:30:00.mp4", moving_pattern(32, 32, 4))
    out = stylize_video("2024-05-06T12:30:00.mp4", "12:30__warm.mp4",
                        Recipe.create("fast", [tiny_net]))  # fmt: skip
    assert out.completed and streams(tmp_path / "12:30__warm.mp4")["frames"] == 4


def test_the_frame_stream_starts_afresh_at_a_new_size(tiny_net) -> None:
    """A webcam that switches resolution: the previous result cannot be moved onto the new
    size, so the stream starts again there instead of failing at every frame."""
    stream = FrameStylizer(Recipe.create("fast", [tiny_net]))
    alone = FrameStylizer(Recipe.create("fast", [tiny_net]))
    large, small = moving_pattern(64, 48, 3), moving_pattern(48, 32, 2)
    for frame in large:
        assert stream.stylize(frame).shape == (48, 64, 3)
    painted = [stream.stylize(frame) for frame in small]
    assert all(np.array_equal(a, alone.stylize(f)) for a, f in zip(painted, small, strict=True))


@pytest.mark.parametrize("frame", [np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 4), np.uint8),
                                   np.zeros((8, 8), np.uint8)])  # fmt: skip
def test_a_frame_that_is_not_8_bit_rgb_is_one_line(tiny_net, frame) -> None:
    stream = FrameStylizer(Recipe.create("fast", [tiny_net]))
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        stream.stylize(frame)


def test_a_video_given_as_a_photo_says_so(tmp_path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", moving_pattern(32, 32, 2))
    with pytest.raises(ImageLoadError, match=r"not a photo: stylize it as a clip"):
        load_image(clip)
    renamed = clip.rename(tmp_path / "clip.bin")
    with pytest.raises(ImageLoadError, match="a video or sound file, not a photo"):
        load_image(renamed)
    text = tmp_path / "notes.bin"
    text.write_text("Grocery list: eggs, milk.\n" * 20)
    with pytest.raises(ImageLoadError, match="unknown or damaged image data"):
        load_image(text)


@pytest.mark.parametrize(("source", "output"), [("clip.mp4", "out.gif"), ("clip.mp4", "out"),
                                                ("anim.gif", "out.mp4")])  # fmt: skip
def test_an_output_named_for_another_format_is_refused(tmp_path, tiny_net, source,
                                                       output) -> None:  # fmt: skip
    """A video is written as MP4 and an animation in its own format, whatever the name."""
    from tests.video_clips import write_animation

    if source == "clip.mp4":
        write_clip(tmp_path / source, moving_pattern(32, 32, 2))
    else:
        write_animation(tmp_path / source, "GIF")
    with pytest.raises(ValueError, match=r"is written as (MP4|GIF): name the output"):
        stylize_video(tmp_path / source, tmp_path / output, Recipe.create("fast", [tiny_net]))
    assert sorted(p.name for p in tmp_path.iterdir()) == [source]


def test_a_clip_is_never_written_over_itself(tmp_path, tiny_net) -> None:
    """stylize_video(clip, clip) replaced the source with its painting, without a word
    (found by QA); a link to it is the same file."""
    clip = write_clip(tmp_path / "clip.mp4", moving_pattern(32, 32, 2))
    before = clip.read_bytes()
    (tmp_path / "link.mp4").symlink_to(clip)
    for output in (clip, tmp_path / "link.mp4", tmp_path / "." / "clip.mp4"):
        with pytest.raises(ValueError, match="is the source clip itself"):
            stylize_video(clip, output, Recipe.create("fast", [tiny_net]))
    assert clip.read_bytes() == before


def _as_transport_stream(source: Path, target: Path, clock_from: float = 0.0) -> Path:
    """`source`'s packets copied into MPEG-TS (as a camcorder or a broadcast stores them),
    its clock starting `clock_from` seconds late."""
    with av.open(str(source)) as given, av.open(str(target), "w", format="mpegts") as out:
        tracks = {s.index: out.add_stream_from_template(s) for s in given.streams}
        for packet in given.demux():
            if packet.size:
                shift = round(clock_from / packet.time_base)
                packet.pts += shift
                packet.dts += shift
                packet.stream = tracks[packet.stream.index]
                out.mux(packet)
    return target


def test_a_clip_whose_clock_starts_late_starts_at_once(tmp_path, tiny_net) -> None:
    """MPEG-TS (a broadcast's, a camcorder's .mts) and stream-copied cuts start their clock
    late: the output starts with the first frame and sound, not with that long a blank
    (an hour's, for a recording whose clock started at 3600 s)."""
    source = write_clip(tmp_path / "source.mp4", moving_pattern(64, 48, 24), rate=12)
    late = _as_transport_stream(source, tmp_path / "broadcast.ts", clock_from=3600)
    output = stylize_video(late, tmp_path / "broadcast.mp4", Recipe.create("fast", [tiny_net]))
    seen = streams(output.output)
    assert seen["frames"] == 24 and seen["audio"][0][0] == "aac"
    with av.open(str(output.output)) as container:
        assert container.duration / av.time_base == pytest.approx(2.0, abs=0.15)
        first = next(container.decode(video=0))
        assert first.time == pytest.approx(0.0, abs=0.1)


def test_a_clip_of_one_pixel_is_one_line(tmp_path, tiny_net) -> None:
    dot = tmp_path / "dot.mov"  # PNG frames: x264 refuses a 1×1 picture too
    with av.open(str(dot), "w") as container:
        video = container.add_stream("png", rate=12)
        video.width = video.height = 1
        video.pix_fmt = "rgb24"
        for _ in range(3):
            container.mux(video.encode(av.VideoFrame.from_ndarray(np.zeros((1, 1, 3), np.uint8),
                                                                  format="rgb24")))  # fmt: skip
        container.mux(video.encode(None))
    with pytest.raises(VideoLoadError, match=r"dot.mov: 1×1 is too small for a video"):
        stylize_video(dot, tmp_path / "dot.mp4", Recipe.create("fast", [tiny_net]))


def test_a_recording_cut_off_before_its_index_says_so(tmp_path) -> None:
    """A phone's or camera's MP4 whose recording stopped before its index was written."""
    whole = write_clip(tmp_path / "whole.mp4", moving_pattern(64, 48, 12)).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: whole.find(b"moov") - 4])
    with pytest.raises(VideoLoadError, match=r"cut.mp4: an unfinished recording: .* index"):
        stylize_video(cut, tmp_path / "out.mp4", Recipe.create("fast", ["udnie"]))


def test_a_file_cut_short_is_painted_to_where_it_breaks_and_says_so(tmp_path, tiny_net) -> None:
    """A Matroska file cut in half decodes to where it breaks; the batch says the picture
    ended before the length the file states (it said nothing)."""
    from styler.batch import clip_notes

    whole = write_clip(tmp_path / "whole.mkv", moving_pattern(64, 48, 96), rate=12)
    half = tmp_path / "half.mkv"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = stylize_video(half, tmp_path / "half.mp4", Recipe.create("fast", [tiny_net]))
    assert result.completed and result.frames < 96
    (note,) = clip_notes(result)
    assert note.startswith("the picture ends at 0:0") and note.endswith(
        "of the 0:08 the file states: the file may be cut short")
    full = stylize_video(whole, tmp_path / "whole.mp4", Recipe.create("fast", [tiny_net]))
    assert clip_notes(full) == ()


@pytest.mark.parametrize("temporal", [1.0, -1, float("nan"), float("inf")])
def test_the_frame_streams_temporal_is_checked_as_the_recipes_is(tiny_net, temporal) -> None:
    """It went straight into the blend: 5 turned a third of the pixels into noise, inf
    every frame after the first white."""
    from styler.errors import InvalidOption

    with pytest.raises(InvalidOption, match="^temporal must be"):
        FrameStylizer(Recipe.create("fast", [tiny_net]), temporal=temporal)


def _clicked(path: Path, codec: str, rate: int, clicks: list[float], *, sound_from: float = 0.0,
             silent: tuple[float, float] | None = None) -> Path:  # fmt: skip
    """Two seconds of a pan at 12 fps, and stereo sound in `codec` at `rate` made of 10 ms
    clicks at `clicks` seconds on the picture's clock, starting at `sound_from`; none of its
    packets within `silent` (a dropout)."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=12)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        sound = container.add_stream(codec, rate=rate, layout="stereo")
        for index, rgb in enumerate(moving_pattern(32, 32, 24)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        block = 1152  # MP3's frame; the other encoders take any
        resampler = av.AudioResampler(format=sound.format.name, layout="stereo", rate=rate)
        for start in range(round(sound_from * rate), 2 * rate, block):
            if silent and silent[0] * rate <= start < silent[1] * rate:
                continue
            wave = np.zeros((1, 2 * block), np.int16)
            for click in clicks:
                at = round(click * rate) - start
                if 0 <= at < block:
                    wave[0, 2 * at : 2 * (at + rate // 100)] = 20000
            chunk = av.AudioFrame.from_ndarray(wave, format="s16", layout="stereo")
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, start, Fraction(1, rate)
            for ready in resampler.resample(chunk):
                container.mux(sound.encode(ready))
        container.mux(sound.encode(None))
    return path


def _click_times(path: Path) -> tuple[str, int, list[float]]:
    """The sound's codec and rate, and when each click starts, in seconds after the first
    frame is shown."""
    with av.open(str(path)) as container:
        shown = next(container.decode(video=0)).time
    with av.open(str(path)) as container:
        track = container.streams.audio[0]
        found: list[float] = []
        for frame in container.decode(track):
            loud = np.flatnonzero(np.abs(frame.to_ndarray().astype(np.float32)[0]) > 0.3 * (
                1 if frame.format.name.startswith("flt") else 32768))  # fmt: skip
            if frame.format.is_packed:
                loud //= 2
            for sample in loud:
                at = frame.time + sample / frame.sample_rate - shown
                if not found or at - found[-1] > 0.1:
                    found.append(round(at, 3))
        return track.codec_context.codec.canonical_name, track.rate, found


@pytest.mark.parametrize(("name", "codec", "rate", "from_", "silent", "kept"), [
    ("late.mkv", "pcm_s16le", 16000, 0.5, None, "aac"),  # PCM starting after the picture
    ("gap.mkv", "pcm_s16le", 16000, 0.0, (0.9, 1.2), "aac"),  # a dropout
    ("music.mp4", "libmp3lame", 44100, 0.5, None, "mp3"),  # MP4 carries MP3: copied
    ("studio.mov", "pcm_s24le", 192000, 0.0, None, "aac"),  # over AAC's 96 kHz
])  # fmt: skip
def test_sound_keeps_its_times_and_its_codec_where_mp4_carries_it(
        tmp_path, tiny_net, name, codec, rate, from_, silent, kept) -> None:  # fmt: skip
    """Sound re-encoded to AAC was given no times: a late start or a gap closed up, the
    sound early by their length; MP3 was re-encoded (its decoder's name, mp3float, is not
    its codec's); 192 kHz sound failed the clip (found by QA)."""
    clicks = [0.75, 1.5]
    source = _clicked(tmp_path / name, codec, rate, clicks, sound_from=from_, silent=silent)
    out = stylize_video(source, tmp_path / "out.mp4", Recipe.create("fast", [tiny_net]))
    heard = _click_times(out.output)
    assert heard[0] == kept and heard[1] == (48000 if rate > 96000 else rate)
    assert heard[2] == pytest.approx(clicks, abs=0.012), heard


def test_a_transport_stream_seeks_to_the_frame_asked_for(tmp_path, tiny_net) -> None:
    """MPEG-TS and MPEG-PS (.mts, .ts, .mpg) have no index, and FFmpeg's search by bytes
    landed on a keyframe after the time asked for: frame_at gave a later frame or none, and
    a part started late while its sound started on time (found by QA)."""
    source = write_clip(tmp_path / "take.mp4", moving_pattern(64, 48, 60), keyframe_every=24)
    camcorder = _as_transport_stream(source, tmp_path / "take.mts")
    info, frames = probe_clip(camcorder, max_pixels=10**7), decoded(camcorder)
    for index in (5, 23, 30, 50, 59):
        assert np.array_equal(frame_at(info, index / 12).rgb, frames[index]), index
    recipe = Recipe.create("fast", [tiny_net], temporal=0)
    whole = decoded(stylize_video(camcorder, tmp_path / "whole.mp4", recipe).output)
    part = decoded(stylize_video(camcorder, tmp_path / "part.mp4", recipe,
                                 span=Span(1.5, 2.5)).output)  # fmt: skip
    assert len(part) == 12
    assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(part, whole[18:30],
                                                                strict=True)) < 3  # fmt: skip
