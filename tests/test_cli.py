"""The `styler` command on tiny generated images.

Batches run for real in subprocesses (signals, exit codes, stdout/stderr); checks that stop
before any work (usage errors, help) call main() in-process to keep the file fast.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import gradient_photo, stripe_style
from PIL import Image

from styler.batch import make_plan, output_name
from styler.cli.main import main
from styler.imageio import read_settings, save_image

pytestmark = pytest.mark.slow  # each run starts Python, torch and VGG19: seconds, not millis

FAST = ("--size", "48", "--steps", "3")
# One torch thread: on a busy shared machine a thread pool that spin-waits for a second core
# makes these tiny runs tens of times slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def styler(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=180)


def call_main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main() in this process, for checks that stop before any real work: no torch start-up."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse exits itself for --help, --version and usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dots_style(size: int = 48) -> Image.Image:
    """A second style, unlike the stripes: dark dots on a red ground."""
    y, x = np.mgrid[0:size, 0:size]
    dot = ((x % 8) - 4) ** 2 + ((y % 8) - 4) ** 2 < 6
    return Image.fromarray(np.where(dot[..., None], [20, 20, 20], [200, 40, 40]).astype(np.uint8))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """photos/ with two good images one level down, a garbage and an empty image, and files
    that must be ignored: a hidden image, a text file and a previous run's output folder."""
    root = tmp_path_factory.mktemp("cli")
    photos = root / "photos"
    (photos / "sub").mkdir(parents=True)
    gradient_photo(48, 40, seed=1).save(photos / "sub" / "a.png")
    gradient_photo(48, 40, seed=2).save(photos / "sub" / "b.jpg")
    (photos / "garbage.jpg").write_bytes(b"this is not a JPEG " * 20)
    (photos / "empty.png").touch()
    gradient_photo(48, 40, seed=3).save(photos / ".hidden.png")
    (photos / "notes.txt").write_text("not an image")
    (photos / "styled").mkdir()
    gradient_photo(48, 40, seed=4).save(photos / "styled" / "old__stripes.png")
    (root / "nothing").mkdir()
    stripe_style(48, 48).save(root / "stripes.png")
    dots_style().save(root / "dots.png")
    return root


@pytest.fixture(scope="module")
def first_run(workspace: Path) -> subprocess.CompletedProcess[str]:
    """The batch of test 1, with bars on (piped stderr) and the output folder inside photos/."""
    return styler(
        "stylize",
        "photos",
        "--recursive",
        "--style",
        "stripes.png",
        "-o",
        "photos/styled",
        *FAST,
        cwd=workspace,
    )


GOOD_OUTPUTS = ("photos/styled/sub/a__stripes.png", "photos/styled/sub/b__stripes.png")


def test_batch_skips_bad_files_and_mirrors_the_tree(workspace, first_run):
    assert first_run.returncode == 1, first_run.stderr
    assert first_run.stdout.splitlines() == [str(Path(p)) for p in GOOD_OUTPUTS]
    written = sorted(
        p.relative_to(workspace).as_posix()
        for p in (workspace / "photos" / "styled").rglob("*")
        if p.is_file()
    )
    assert written == sorted([*GOOD_OUTPUTS, "photos/styled/old__stripes.png"])
    assert f"error: {Path('photos/garbage.jpg')}: not an image" in first_run.stderr
    assert f"error: {Path('photos/empty.png')}: empty file" in first_run.stderr
    assert "2 stylized, 0 skipped (existing), 2 failed" in first_run.stderr
    assert "Traceback" not in first_run.stderr
    settings = read_settings(workspace / GOOD_OUTPUTS[0])
    assert settings["mode"] == "optimize"
    assert settings["styles"] == ["stripes.png"]
    assert settings["controls"]["size"] == 48 and settings["controls"]["steps"] == 3


def test_skip_existing_resumes_without_rewriting(workspace, first_run):
    outputs = [workspace / p for p in GOOD_OUTPUTS]
    before = [p.stat().st_mtime_ns for p in outputs]
    run = styler(
        "stylize",
        "photos/sub",
        "--style",
        "stripes.png",
        "-o",
        "photos/styled/sub",
        "--skip-existing",
        *FAST,
        cwd=workspace,
    )
    assert run.returncode == 0, run.stderr
    assert "0 stylized, 2 skipped (existing), 0 failed" in run.stderr
    assert run.stdout == ""
    assert [p.stat().st_mtime_ns for p in outputs] == before


def test_skip_existing_redoes_a_damaged_output(tmp_path):
    gradient_photo(48, 40).save(tmp_path / "c.png")
    stripe_style(48, 48).save(tmp_path / "stripes.png")
    damaged = tmp_path / "out" / "c__stripes.png"
    damaged.parent.mkdir()
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    run = styler(
        "stylize",
        "c.png",
        "--style",
        "stripes.png",
        "-o",
        "out",
        "--skip-existing",
        "--quiet",
        *FAST,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "1 stylized, 0 skipped (existing), 0 failed" in run.stderr
    assert read_settings(damaged)["mode"] == "optimize"


def test_skip_existing_redoes_a_result_whose_run_was_stopped(tmp_path):
    """The API and the web UI save a stopped run's best-so-far ('completed': false in its
    settings) under the name a finished one gets; --skip-existing kept it (found by QA)."""
    gradient_photo(48, 40).save(tmp_path / "c.png")
    stripe_style(48, 48).save(tmp_path / "stripes.png")
    args = ("stylize", "c.png", "--style", "stripes.png", "-o", "out", "--quiet", *FAST)
    assert styler(*args, cwd=tmp_path).returncode == 0
    output = tmp_path / "out" / "c__stripes.png"
    settings = read_settings(output)
    with Image.open(output) as image:
        save_image(image.convert("RGB"), output, settings={**settings, "completed": False})
    run = styler(*args, "--skip-existing", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "1 stylized, 0 skipped (existing), 0 failed" in run.stderr
    assert read_settings(output)["completed"] is True


def test_settings_from_says_when_a_fast_style_is_not_the_network_that_painted_it(tmp_path):
    """Settings named a fast style by name alone: a user style retrained (or deleted and made
    again from another painting) repainted an old result with the new network without a
    word, up to 173 levels off (found by QA). They now hold its sha256, and a rerun with
    another network of that name says so."""
    from styler.fast.manifest import find_style

    gradient_photo(48, 40).save(tmp_path / "c.png")
    assert styler("stylize", "c.png", "--fast", "udnie", "-o", "out", "-q",
                  cwd=tmp_path).returncode == 0  # fmt: skip
    output = tmp_path / "out" / "c__udnie.png"
    settings = read_settings(output)
    assert settings["files"]["udnie"] == {"sha256": find_style("udnie").sha256}
    run = styler("stylize", "c.png", "--settings-from", output, "-o", "again", "-q",
                 cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0 and "note:" not in run.stderr, run.stderr
    settings["files"]["udnie"]["sha256"] = "0" * 64  # painted by an earlier udnie
    with Image.open(output) as image:
        save_image(image.convert("RGB"), output, settings=settings)
    run = styler("stylize", "c.png", "--settings-from", output, "-o", "again", "-q",
                 cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"note: {output}: the fast style 'udnie' installed now is not the network that " \
           "painted this result" in run.stderr


def test_tiff_bits_for_outputs_that_are_not_tiff_is_said(tmp_path):
    """--tiff-bits 16 with PNG outputs was accepted and ignored without a word (found by QA)."""
    gradient_photo(48, 40).save(tmp_path / "c.png")
    stripe_style(48, 48).save(tmp_path / "stripes.png")
    run = styler("stylize", "c.png", "--style", "stripes.png", "-o", "out", "--tiff-bits", "16",
                 "--quiet", *FAST, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "note: --tiff-bits 16 is for TIFF outputs (--format tiff): the .png outputs are 8 " \
           "bits a channel" in run.stderr


def test_the_tiff_bits_note_reads_object_store_outputs_too():
    """A Ray plan's outputs are URLs (str): the note's check crashed every Ray run with
    "'str' object has no attribute 'suffix'" (found by the fresh-clone run)."""
    import argparse
    from types import SimpleNamespace

    from styler.cli.stylize_cmd import _unused_tiff_bits

    plan = SimpleNamespace(jobs=[SimpleNamespace(output="s3://bucket/out/a__udnie.png"),
                                 SimpleNamespace(output=Path("out/b__udnie.tiff"))])  # fmt: skip
    assert _unused_tiff_bits(argparse.Namespace(tiff_bits=None), plan) == []
    assert _unused_tiff_bits(argparse.Namespace(tiff_bits="16"), plan) == [
        "--tiff-bits 16 is for TIFF outputs (--format tiff): the .png outputs are 8 bits a "
        "channel"]


def test_skip_existing_redoes_a_damaged_tiff_without_libtiffs_words(tmp_path):
    """libtiff printed "TIFFFillStrip: Read error on strip 0; got 18446744073709551554
    bytes..." to stderr while the damaged output was checked."""
    gradient_photo(48, 40).save(tmp_path / "c.png")
    stripe_style(48, 48).save(tmp_path / "stripes.png")
    args = ("stylize", "c.png", "--style", "stripes.png", "-o", "out", "--format", "tiff",
            "--quiet", *FAST)  # fmt: skip
    assert styler(*args, cwd=tmp_path).returncode == 0
    damaged = tmp_path / "out" / "c__stripes.tiff"
    damaged.write_bytes(damaged.read_bytes()[:2000])
    run = styler(*args, "--skip-existing", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip() == "1 stylized, 0 skipped (existing), 0 failed"
    with Image.open(damaged) as image:
        image.load()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("photos/sub", "--style", "missing.png"), "style image missing.png: file not found"),
        (("nothing", "--style", "stripes.png"), "no input images found in nothing"),
        (("no_such_dir", "--style", "stripes.png"), "no_such_dir: no such file or folder"),
        (
            ("photos/sub", "--style", "stripes.png", "--steps", "100001"),
            "--steps must be 0 or between 1 and",
        ),
        (("photos/sub", "--style", "stripes.png", "--device", "bogus"), "unknown device"),
        (
            ("photos/sub", "--style", "stripes.png", "--style-blend", "1", "2"),
            "1 style image but 2 blend weights",
        ),
        (("photos/sub", "--style", "stripes.png", "--bogus"), "unrecognized arguments: --bogus"),
        (("photos/sub", "--style", "stripes.png", "--quality", "0"), "must be between 1 and 100"),
    ],
)
def test_usage_errors_exit_2_with_one_line(workspace, monkeypatch, capsys, args, message):
    monkeypatch.chdir(workspace)
    code, _, stderr = call_main(
        "stylize", *args, "-o", "never", "--size", "48", "--quiet", capsys=capsys
    )
    assert code == 2
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], stderr
    assert not (workspace / "never").exists()


def test_all_good_with_jpg_output_and_blended_styles(workspace):
    run = styler(
        "stylize",
        "photos/sub/a.png",
        "--style",
        "stripes.png",
        "dots.png",
        "--style-blend",
        "3",
        "1",
        "--format",
        "jpg",
        "-o",
        "jpg_out",
        "--quiet",
        *FAST,
        cwd=workspace,
    )
    assert run.returncode == 0, run.stderr
    output = Path("jpg_out", "a__stripes+dots.jpg")
    assert run.stdout.splitlines() == [str(output)]
    settings = read_settings(workspace / output)
    assert settings["mode"] == "optimize"
    assert settings["styles"] == ["stripes.png", "dots.png"]
    assert settings["blend"] == [3.0, 1.0]


def test_console_script_help_shows_examples(tmp_path):
    script = Path(sys.executable).with_name("styler")
    run = subprocess.run(
        [script, "--help"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0
    assert "Examples:" in run.stdout and "stylize" in run.stdout


@pytest.mark.parametrize("command", ["stylize", "evaluate"])
def test_command_help_shows_examples(capsys, command):
    code, stdout, _ = call_main(command, "--help", capsys=capsys)
    assert code == 0
    assert "Examples:" in stdout and f"styler {command}" in stdout


def test_every_fast_style_an_example_names_is_shipped():
    """`styler stylize --help` blended 'mosaic', a gallery painting, not a fast network: the
    example failed with 'unknown fast style'."""
    from styler.cli import export_cmd, main, stylize_cmd
    from styler.fast.manifest import installed_styles

    shipped = {entry.name for entry in installed_styles()}
    named = set()
    for text in (stylize_cmd.EPILOG, export_cmd.EPILOG, main.EPILOG):
        for words in re.findall(r"--fast((?: [a-z_]+)+)", text):
            named.update(words.split())
    assert named and named <= shipped, named - shipped


def test_every_option_of_every_command_has_help():
    """`styler train --style-blend` and `styler export --format` had none."""
    import argparse

    from styler.cli.main import COMMANDS, build_parser

    bare = []
    for name in COMMANDS:
        commands = next(a for a in build_parser(name)._actions
                        if isinstance(a, argparse._SubParsersAction))  # fmt: skip
        bare += [f"{name} {'/'.join(a.option_strings)}" for a in commands.choices[name]._actions
                 if a.option_strings and not a.help and a.help != argparse.SUPPRESS]  # fmt: skip
    assert not bare, bare


def test_version(capsys):
    code, stdout, _ = call_main("--version", capsys=capsys)
    assert code == 0
    assert stdout.startswith("styler ")


def test_evaluate_prints_both_distances(workspace, first_run):
    files = (GOOD_OUTPUTS[0], "--content", "photos/sub/a.png", "--style", "stripes.png")
    text = styler("evaluate", *files, cwd=workspace)
    assert text.returncode == 0, text.stderr
    values = dict(line.split() for line in text.stdout.splitlines())
    assert set(values) == {"style", "content"}
    assert all(float(v) >= 0 for v in values.values())
    as_json = styler("evaluate", *files, "--json", cwd=workspace)
    assert as_json.returncode == 0, as_json.stderr
    parsed = json.loads(as_json.stdout)
    assert parsed["style"] == pytest.approx(float(values["style"]), rel=1e-4)
    assert parsed["content"] == pytest.approx(float(values["content"]), rel=1e-4)


def test_evaluate_unreadable_file_exits_2(workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace)
    code, _, stderr = call_main(
        "evaluate",
        "photos/garbage.jpg",
        "--content",
        "photos/sub/a.png",
        "--style",
        "stripes.png",
        capsys=capsys,
    )
    assert code == 2
    assert stderr.splitlines() == [
        f"styler: error: {Path('photos/garbage.jpg')}: not an image styler can read "
        "(unknown or damaged image data)"
    ]


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path) -> None:
    """`styler styles --json | head -c 100`: the pipe closed under the print was
    'error: [Errno 32] Broken pipe', exit 2, about half the time (found by QA)."""
    for _ in range(3):
        run = subprocess.Popen([sys.executable, "-m", "styler.cli.main", "styles", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        assert run.stdout is not None and run.stdout.read(100)
        run.stdout.close()  # as `head` exits
        _, stderr = run.communicate(timeout=120)
        assert run.returncode in (0, 141) and stderr == b"", (run.returncode, stderr)


def test_evaluate_measures_a_thin_strip_and_names_one_too_thin(workspace, monkeypatch, capsys):
    """A 1700x50 panorama strip left VGG19's pooling under one pixel at a 512 px long side:
    'internal error', where stylize paints it (found by QA)."""
    monkeypatch.chdir(workspace)
    gradient_photo(1700, 50, seed=4).save("strip.png")
    gradient_photo(4000, 3, seed=5).save("thread.png")
    code, stdout, stderr = call_main("evaluate", "strip.png", "--content", "strip.png",
                                     "--style", "stripes.png", capsys=capsys)  # fmt: skip
    assert code == 0, stderr
    assert float(stdout.split()[1]) > 0 and float(stdout.split()[3]) == 0  # itself: content 0
    code, _, stderr = call_main("evaluate", "strip.png", "--content", "strip.png", "--style",
                                "thread.png", capsys=capsys)  # fmt: skip
    assert code == 2 and stderr.splitlines() == [
        "styler: error: thread.png: 4000×3 is too thin to measure (more than 64:1)"]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_keeps_written_outputs_and_summarises(tmp_path):
    (tmp_path / "many").mkdir()
    for seed in range(12):
        gradient_photo(48, 40, seed=seed).save(tmp_path / "many" / f"p{seed:02}.png")
    stripe_style(48, 48).save(tmp_path / "stripes.png")
    command = [
        sys.executable,
        "-m",
        "styler.cli.main",
        "stylize",
        "many",
        "--style",
        "stripes.png",
        "-o",
        "out",
        # Enough steps that the run outlasts a slow parent's SIGINT on a loaded machine.
        "--size",
        "48",
        "--steps",
        "40",
    ]
    with (
        (tmp_path / "stderr.txt").open("w+") as stderr,
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            # A shell's background jobs inherit SIGINT ignored; give the CLI its default back.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        ) as process,
    ):
        first = process.stdout.readline()
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
        stderr.seek(0)
        messages = stderr.read()
    assert process.returncode == 130, messages
    printed = {first.strip(), *rest.split()}
    written = {str(p.relative_to(tmp_path)) for p in (tmp_path / "out").iterdir()}
    assert printed == written  # no temporary or partial files left behind
    assert 1 <= len(written) < 12
    assert f"{len(written)} stylized, 0 skipped (existing), 0 failed" in messages
    assert f"interrupted: {12 - len(written)} not done" in messages


# --------------------------------------------------------------- planning, without subprocesses


def test_output_names_join_blended_styles():
    assert output_name(Path("x/photo.jpeg"), ["s/starry.jpg"], "png") == "photo__starry.png"
    assert output_name(Path("p.png"), ["a.jpg", "b.webp"], "jpg") == "p__a+b.jpg"


def test_plan_without_recursive_takes_direct_images_only(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("b.JPG", "a.png", ".hidden.png", "notes.txt", "sub/deep.png"):
        (tmp_path / "in" / name).touch()
    plan = make_plan([tmp_path / "in"], ["s.png"], tmp_path / "out", "png")
    assert [job.source.name for job in plan.jobs] == ["a.png", "b.JPG"]
    assert [job.output for job in plan.jobs] == [
        tmp_path / "out" / "a__s.png",
        tmp_path / "out" / "b__s.png",
    ]


def test_plan_runs_a_repeated_input_once_and_refuses_clashing_names(tmp_path):
    for name in ("a.jpg", "a.png"):
        (tmp_path / name).touch()
    plan = make_plan([tmp_path, tmp_path / "a.jpg"], ["s.png"], tmp_path / "out", "png")
    assert [job.source.name for job in plan.jobs] == ["a.jpg"]
    assert len(plan.failures) == 1 and "a.png: its output" in plan.failures[0]


def test_a_folder_stylized_into_itself_does_not_stylize_its_earlier_outputs(tmp_path):
    for name in ("a.jpg", "a__s.heic", "b__t.heic"):
        (tmp_path / name).touch()
    plan = make_plan([tmp_path], ["s.png"], tmp_path, "heic")
    assert [job.source.name for job in plan.jobs] == ["a.jpg", "b__t.heic"]  # t: another style
    assert not plan.failures


def test_a_folder_stylized_into_itself_again_leaves_out_what_styler_made_there(tmp_path):
    """An earlier run's outputs into the same folder, with another style or format, carry
    styler's settings: they are left out, with a note (they were painted again, into
    a__s__t.jpg); a photo merely named with '__' is not."""
    from styler.imageio import save_image

    pixels = Image.new("RGB", (8, 8), (90, 120, 150))
    pixels.save(tmp_path / "a.jpg")
    pixels.save(tmp_path / "two__words.jpg")  # the photographer's own name, no settings
    save_image(pixels, tmp_path / "a__s.heic", settings={"mode": "fast"})
    plan = make_plan([tmp_path], ["t.png"], tmp_path, "jpg")
    assert sorted(job.source.name for job in plan.jobs) == ["a.jpg", "two__words.jpg"]
    assert plan.notes == [f"left out 1 file styler made in the folder written to "
                          f"({tmp_path / 'a__s.heic'}): stylize them into another folder to "
                          "paint them again"]  # fmt: skip
    elsewhere = make_plan([tmp_path], ["t.png"], tmp_path / "out", "jpg")
    assert len(elsewhere.jobs) == 3 and not elsewhere.notes  # into another folder: painted


def test_a_mirrored_folder_that_is_a_file_is_named_in_its_photos_line(tmp_path):
    """-o is a folder, but the sub-folder a recursive run mirrors is a file: each of its
    photos fails saying so (it said "File exists"), the others are written."""
    from styler.imageio import ImageSaveError, save_image

    (tmp_path / "sub").write_text("x")
    with pytest.raises(ImageSaveError, match=r"sub/p.png: could not write the file \(.*sub is a "
                                             r"file, not a folder\)"):  # fmt: skip
        save_image(Image.new("RGB", (4, 4)), tmp_path / "sub" / "p.png")


@pytest.mark.parametrize("output", ["afile", "afile/sub"])
def test_an_output_folder_that_is_a_file_is_one_usage_error(workspace, monkeypatch, capsys,
                                                             output):  # fmt: skip
    """Refused before any painting, not once per input after each was painted."""
    monkeypatch.chdir(workspace)
    (workspace / "afile").write_text("x")
    code, _, stderr = call_main("stylize", "photos/sub", "--style", "stripes.png", "-o", output,
                                "--size", "48", "--quiet", capsys=capsys)  # fmt: skip
    assert code == 2
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert errors == [f"styler: error: -o {output}: afile is a file, not a folder"], stderr
