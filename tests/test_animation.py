"""Animated GIF, WebP and PNG: stylized as clips and written back animated in their own
format, their frame durations and loop count kept (styler.video.animation). The animations
are written here with Pillow from a known moving pattern."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageSequence

from styler import CancelToken, Recipe, Settings, build_engine
from styler.batch import stylize_files
from styler.video import VideoLoadError, is_animation, stylize_video
from styler.video.animation import probe_animation
from tests.video_clips import DURATIONS, moving_pattern, played, write_animation, write_clip

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.mark.parametrize(("form", "suffix"), [("GIF", ".gif"), ("WEBP", ".webp"), ("PNG", ".png")])
def test_an_animation_comes_back_animated_in_its_own_format(
    tmp_path, tiny_net, form, suffix
) -> None:
    source = write_animation(tmp_path / f"loop{suffix}", form)
    assert is_animation(source)
    out = stylize_video(source, tmp_path / f"out{suffix}", Recipe.create("fast", [tiny_net]))
    assert out.completed and out.frames == 5
    made, durations, loop, frames = played(out.output)
    assert (made, durations, loop) == (form, DURATIONS, 2)
    original = played(source)[3]
    assert all(a.shape == (32, 48, 3) for a in frames)
    changes = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames, original, strict=True)]
    assert np.mean(changes) > 10  # painted, not copied
    assert Settings.from_file(out.output).mode == "fast"


@pytest.mark.parametrize(("form", "given", "loop"),
                         [("GIF", {}, None), ("GIF", {"loop": 0}, 0), ("WEBP", {}, 0),
                          ("PNG", {}, 0)])  # fmt: skip
def test_an_animation_without_a_loop_count_plays_as_often(
    tmp_path, tiny_net, form, given, loop
) -> None:
    """Saved with no loop count, a GIF has no loop block (NETSCAPE) and plays once, where
    loop 0 plays for ever; WebP and APNG always hold a count, 0 when none is given. The
    output plays as often, and so does the output stylized again."""
    images = [Image.fromarray(f) for f in moving_pattern(48, 32, 3)]
    source = tmp_path / f"once.{form.lower()}"
    images[0].save(source, format=form, save_all=True, append_images=images[1:], duration=100,
                   **given)  # fmt: skip
    recipe = Recipe.create("fast", [tiny_net])
    first = stylize_video(source, tmp_path / f"out.{form.lower()}", recipe).output
    assert Settings.from_file(first).mode == "fast"
    again = stylize_video(first, tmp_path / f"again.{form.lower()}", recipe).output
    for path in (source, first, again):
        with Image.open(path) as im:
            assert (im.info.get("loop"), im.n_frames) == (loop, 3), path
        if form == "GIF":
            assert (b"NETSCAPE2.0" in path.read_bytes()) == (loop is not None), path


def test_an_apng_s_default_image_is_not_painted_as_a_frame(tmp_path, tiny_net) -> None:
    """An APNG whose first image is a cover (shown where APNG is not understood, never in
    the animation) comes out as the same animation without it: its three frames, with their
    durations, and three frames counted for progress."""
    cover = Image.new("RGB", (48, 32), (200, 30, 30))
    frames = [Image.fromarray(f) for f in moving_pattern(48, 32, 3)]
    covered, plain = tmp_path / "covered.png", tmp_path / "plain.png"
    cover.save(covered, save_all=True, append_images=frames, duration=[80, 120, 200],
               default_image=True)  # fmt: skip
    frames[0].save(plain, save_all=True, append_images=frames[1:], duration=[80, 120, 200])
    assert played(covered)[1][1:] == [80, 120, 200]  # Pillow's frame 0 is the cover
    recipe, totals = Recipe.create("fast", [tiny_net]), set()
    out = stylize_video(covered, tmp_path / "out.png", recipe,
                        progress=lambda p: totals.add(p.total_steps))  # fmt: skip
    assert out.frames == 3 and totals == {3}
    made, durations, _, painted = played(out.output)
    assert (made, durations) == ("PNG", [80, 120, 200])
    expected = played(stylize_video(plain, tmp_path / "plain_out.png", recipe).output)[3]
    assert all(np.array_equal(a, b) for a, b in zip(painted, expected, strict=True))


def test_an_apng_s_cover_does_not_show_through_its_first_frame(tmp_path, tiny_net) -> None:
    """A viewer draws an APNG's first frame on a clear canvas, not over the cover: where
    that frame is see-through (blended over what is below), and later frames that restore
    the previous canvas, the cover (here partly transparent) must not show. Painted, the
    covered animation gives the pixels and transparency of the same animation without it."""
    cover = np.zeros((32, 48, 4), np.uint8)
    cover[:, :30] = (200, 30, 30, 255)  # opaque on the left, clear on the right
    frames = []
    for t, scene in enumerate(moving_pattern(48, 32, 3)):
        frame = np.dstack([scene, np.full((32, 48), 255, np.uint8)])
        frame[:, : 12 + 8 * t] = 0  # clear black on the left, a wider band each frame
        frames.append(Image.fromarray(frame))
    covered, plain = tmp_path / "covered.png", tmp_path / "plain.png"
    options = {"save_all": True, "duration": 100, "blend": 1, "disposal": 2}  # OVER, PREVIOUS
    Image.fromarray(cover).save(covered, append_images=frames, default_image=True, **options)
    frames[0].save(plain, append_images=frames[1:], **options)
    recipe = Recipe.create("fast", [tiny_net])
    outputs = [stylize_video(source, tmp_path / f"out_{source.name}", recipe).output
               for source in (covered, plain)]  # fmt: skip
    painted = []
    for output in outputs:
        with Image.open(output) as im:
            painted.append([np.asarray(f.convert("RGBA")) for f in ImageSequence.Iterator(im)])
    assert len(painted[0]) == len(painted[1]) == 3
    assert all(np.array_equal(a, b) for a, b in zip(*painted, strict=True))
    assert (painted[0][0][:, :12, 3] == 0).all()  # clear where the first frame is


def test_an_apng_of_a_cover_and_one_frame_is_a_photo_of_that_frame(tmp_path, tiny_net) -> None:
    """A cover and one frame play no animation: viewers that know APNG show the frame, still,
    so styler paints it as a photo (the photos' format, no note about frames), the pixels of
    the same frame in a plain PNG; with more frames, a photo's load takes the first frame,
    not the cover."""
    from styler.imageio import load_image

    cover = Image.new("RGB", (48, 32), (200, 30, 30))
    frames = [Image.fromarray(f) for f in moving_pattern(48, 32, 2)]
    cover.save(tmp_path / "covered.png", save_all=True, append_images=frames[:1],
               default_image=True)  # fmt: skip
    frames[0].save(tmp_path / "plain.png")
    assert not is_animation(tmp_path / "covered.png")
    done = subprocess.run([sys.executable, "-m", "styler.cli.main", "stylize", "covered.png",
                           "plain.png", "--fast", str(tiny_net), "--format", "jpg", "-o", "out"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0 and "frame" not in done.stderr, done.stderr
    assert sorted(done.stdout.split()) == ["out/covered__warm_test.jpg", "out/plain__warm_test.jpg"]
    painted = [np.asarray(Image.open(tmp_path / "out" / f"{name}__warm_test.jpg"))
               for name in ("covered", "plain")]  # fmt: skip
    assert np.array_equal(*painted)
    cover.save(tmp_path / "two.png", save_all=True, append_images=frames, default_image=True)
    loaded = load_image(tmp_path / "two.png")
    assert np.array_equal(np.asarray(loaded.rgb), np.asarray(frames[0]))
    assert "only the first frame is used" in loaded.notes[0]


@pytest.mark.parametrize(("form", "suffix"), [("GIF", ".gif"), ("WEBP", ".webp"), ("PNG", ".png")])
def test_an_animated_sticker_keeps_its_transparency(tmp_path, tiny_net, form, suffix) -> None:
    """A disc moving over nothing, as chat stickers are: painted, and still see-through
    around the disc in every frame (GIF's transparency is all or nothing)."""
    scene = moving_pattern(64, 48, 1)[0]
    frames = []
    for t in range(4):
        frame = Image.fromarray(scene).convert("RGBA")
        disc = Image.new("L", (64, 48), 0)
        ImageDraw.Draw(disc).ellipse((4 + 8 * t, 8, 28 + 8 * t, 40), fill=255)
        frame.putalpha(disc)
        frames.append(frame)
    extra = {"disposal": 2} if form == "GIF" else {"lossless": True} if form == "WEBP" else {}
    source = tmp_path / f"sticker{suffix}"
    frames[0].save(source, format=form, save_all=True, append_images=frames[1:], duration=90,
                   **extra)  # fmt: skip
    out = stylize_video(source, tmp_path / f"out{suffix}", Recipe.create("fast", [tiny_net]))
    with Image.open(out.output) as im:
        for t, frame in enumerate(ImageSequence.Iterator(im)):
            alpha = np.asarray(frame.convert("RGBA"))[..., 3]
            assert alpha[24, 16 + 8 * t] == 255, (form, t)  # the disc's centre, where it is
            assert alpha[2, 2] == alpha[24, 60] == 0, (form, t)  # around it, see-through


def test_what_hidden_pixels_hold_changes_nothing_that_shows(tmp_path, tiny_net) -> None:
    """A sticker whose frames differ only under their transparent pixels (one black there,
    one the photo) was painted pale in one and dark in the other: the networks saw the hidden
    colours across the visible part's edge (found by QA). Still photos alike."""
    scene = moving_pattern(64, 48, 1)[0]
    box = np.zeros((48, 64), np.uint8)
    box[12:36, 16:48] = 255
    hidden_black = np.where(box[..., None] > 0, scene, 0).astype(np.uint8)
    frames = [Image.fromarray(np.dstack([rgb, box])) for rgb in (scene, hidden_black, 255 - scene)]
    source = tmp_path / "sticker.png"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100)
    recipe = Recipe.create("fast", [tiny_net], temporal=0)
    out = stylize_video(source, tmp_path / "out.png", recipe)
    # the first two painted alike: PNG keeps them as one frame shown for both their lengths
    assert played(out.output)[1] == [200, 100]
    for index, frame in enumerate(frames):
        frame.save(tmp_path / f"still{index}.png")
    stills = [np.asarray(build_engine(recipe).run(tmp_path / f"still{index}.png").image)
              for index in range(2)]  # fmt: skip
    assert np.array_equal(stills[0][12:36, 16:48], stills[1][12:36, 16:48])


def test_a_gif_keeps_what_stands_still_still() -> None:
    """One palette for all frames, undithered: pixels that do not change between frames get
    the same colour in every frame (a palette per frame, or dithering, made them shimmer)."""
    from styler.video.animation import _one_palette

    scene = moving_pattern(64, 48, 1)[0]
    frames = []
    for t in range(6):
        frame = scene.copy()
        frame[30:40, 8 * t : 8 * t + 10] = (250, 30, 30)  # a red block crossing below
        frames.append(Image.fromarray(frame))
    quantized = [np.asarray(f.convert("RGB")) for f in _one_palette(frames)]
    assert all(np.array_equal(q[:28], quantized[0][:28]) for q in quantized)
    assert np.abs(quantized[0].astype(int) - np.asarray(frames[0])).mean() < 10  # noisy texture


def test_a_batch_writes_animations_as_animations_and_stills_as_photos(tmp_path, tiny_net) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_animation(folder / "waves.gif", "GIF")
    write_animation(folder / "flag.apng", "PNG")  # was a photo: its first frame
    Image.fromarray(moving_pattern(48, 32, 1)[0]).save(folder / "still.gif")
    write_clip(folder / "pan.mp4", moving_pattern(48, 32, 4))
    damaged = write_animation(tmp_path / "whole.gif", "GIF").read_bytes()
    (folder / "cut.gif").write_bytes(damaged[: len(damaged) * 2 // 3])
    summary = stylize_files(folder, tmp_path / "out", Recipe.create("fast", [tiny_net]),
                            format="jpg")  # fmt: skip
    written = sorted(p.name for p in summary.written)
    assert written == ["flag__warm_test.png", "pan__warm_test.mp4", "still__warm_test.jpg",
                       "waves__warm_test.gif"]  # fmt: skip
    assert played(tmp_path / "out" / "waves__warm_test.gif")[1] == DURATIONS
    assert played(tmp_path / "out" / "flag__warm_test.png")[1] == DURATIONS
    (line,) = summary.failures
    assert line.startswith(str(folder / "cut.gif")) and "\n" not in line
    assert sorted(os.listdir(tmp_path / "out")) == written


def test_skip_existing_redoes_an_animation_cut_short(tmp_path, tiny_net) -> None:
    """A GIF cut short still opens (its first frames): --skip-existing kept it as done."""
    source = write_animation(tmp_path / "waves.gif", "GIF")
    recipe = Recipe.create("fast", [tiny_net])
    out = tmp_path / "out"
    (output,) = stylize_files(source, out, recipe).written
    whole = output.read_bytes()
    output.write_bytes(whole[: len(whole) * 3 // 5])
    again = stylize_files(source, out, recipe, skip_existing=True)
    assert (again.stylized, again.skipped) == (1, 0)
    assert played(output)[1] == DURATIONS
    assert stylize_files(source, out, recipe, skip_existing=True).skipped == 1  # now whole


def test_an_animation_planned_as_a_photo_gives_its_first_frame(tmp_path, tiny_net) -> None:
    """A remote input's plan cannot look into the file, so an animated GIF there is named
    as a photo: the job then paints its first frame, with the note, and writes that name's
    format (not GIF bytes under a .png name)."""
    from styler.batch import Batch, Job, Summary
    from styler.engine import build_engine

    source = write_animation(tmp_path / "loop.gif", "GIF")
    summary = Summary()
    Batch(build_engine(Recipe.create("fast", [tiny_net]))).attempt(Job(source, tmp_path / "x.png"),
                                                             summary)  # fmt: skip
    assert summary.stylized == 1 and "only the first frame is used" in summary.notes[0]
    with Image.open(tmp_path / "x.png") as written:
        assert written.format == "PNG" and not getattr(written, "is_animated", False)


def test_a_cancelled_animation_leaves_nothing(tmp_path, tiny_net) -> None:
    source = write_animation(tmp_path / "loop.webp", "WEBP")
    cancel = CancelToken()

    def stop_at_two(progress) -> None:
        if progress.step == 2:
            cancel.cancel()

    out = stylize_video(source, tmp_path / "out" / "x.webp", Recipe.create("fast", [tiny_net]),
                        progress=stop_at_two, cancel=cancel)  # fmt: skip
    assert not out.completed and out.output is None
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_an_animation_too_long_to_hold_is_refused_in_one_line(
    tmp_path, tiny_net, monkeypatch
) -> None:
    from styler.video import animation as module

    monkeypatch.setattr(module, "MAX_HELD_BYTES", 48 * 32 * 3 * 4)  # four frames' pixels
    source = write_animation(tmp_path / "long.webp", "WEBP")
    with pytest.raises(VideoLoadError, match=r"long.webp: 5 frames of 48x32 are more than .*"
                       r"convert it to a video \(MP4\)$"):  # fmt: skip
        stylize_video(source, tmp_path / "x.webp", Recipe.create("fast", [tiny_net]))


def test_a_damaged_animation_is_one_line(tmp_path, tiny_net) -> None:
    whole = write_animation(tmp_path / "whole.gif", "GIF").read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(VideoLoadError, match="cut.gif: damaged animation"):
        stylize_video(cut, tmp_path / "x.gif", Recipe.create("fast", [tiny_net]))


@pytest.mark.slow
def test_the_cli_stylizes_an_animated_gif_and_reproduces_it(tmp_path, tiny_net) -> None:
    source = write_animation(tmp_path / "loop.gif", "GIF")

    def styler(*args: str | Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "styler.cli.main", "stylize", *map(str, args)]
        return subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    made = styler(source, "--fast", tiny_net, "--temporal", "0.3", "-o", "out")
    assert made.returncode == 0, made.stderr
    first = tmp_path / made.stdout.strip()
    assert first == tmp_path / "out" / "loop__warm_test.gif"
    assert played(first)[:3] == ("GIF", DURATIONS, 2)
    again = styler(source, "--settings-from", first, "-o", "again")
    assert again.returncode == 0, again.stderr
    assert Settings.from_file(tmp_path / again.stdout.strip()).controls["temporal"] == 0.3


@pytest.mark.parametrize("form", ["GIF", "WEBP", "PNG"])
def test_an_animation_is_probed_and_previewed_like_a_clip(tmp_path, form) -> None:
    """probe_clip said "a still image, not a video" of an animation stylize_video paints, so
    the documented preview, frame_at(probe_clip(...), t), could not reach one (found by QA)."""
    from styler.video import frame_at, probe_clip

    path = write_animation(tmp_path / f"loop.{form.lower()}", form)
    info = probe_clip(path, max_pixels=10**6)
    assert info.frames == 5 and (info.width, info.height) == (48, 32)
    later = sum(DURATIONS[:2]) / 1000 + 0.01  # within the third frame
    shown = frame_at(info, later).rgb.astype(int)
    off = [np.abs(shown - frame.astype(int)).mean() for frame in moving_pattern(48, 32, 5)]
    assert int(np.argmin(off)) == 2, off  # GIF's palette and WebP's loss: the nearest
    with pytest.raises(ValueError, match="a finite number of seconds, got nan"):
        frame_at(info, float("nan"))  # it said "cannot convert NaN to integer ratio"


def test_a_text_file_named_as_an_animation_is_one_line_naming_it_once(tmp_path) -> None:
    """Pillow's message named the file's path again: on the web UI, the server's temporary
    folder (found by QA)."""
    fake = tmp_path / "bad.png"
    fake.write_text("not a picture")
    with pytest.raises(VideoLoadError) as refused:
        probe_animation(fake, max_pixels=10**7)
    assert str(refused.value) == (f"{fake}: not an animation styler can read (unknown or "
                                  "damaged image data)")  # fmt: skip
