"""A real training through the web UI, and how fast the server stylizes meanwhile.

Starts `styler ui --train-photos DIR` with a user styles folder of its own, times Fast
stylizes of a photo through the UI's /stylize API (gradio_client) with no training, starts
a training of PAINTING in Chromium (the Make a style tab, the server's photos, MINUTES),
times the same stylizes while it trains, waits for the end, and prints the new style's
style and content distances on validation photos (optionally next to optimizer mode's on
the same photos), with the preview images' paths.

    python benchmarks/bench_make_style.py ../shared/data/styles/udnie.jpg --name my_udnie \\
        --minutes 10 --out /tmp/make-style --optimizer
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "tests"))


def start_server(out: Path, train_photos: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, STYLER_USER_STYLES=str(out / "styles"), PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "styler.cli.main", "ui", "--port", str(port),
               "--train-photos", str(train_photos), "--temp-dir", str(out)]  # fmt: skip
    log = open(out / "server.log", "w")  # noqa: SIM115 - the server's for its whole life
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 120
    while "running at" not in (out / "server.log").read_text():
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit(f"the server did not start: {(out / 'server.log').read_text()}")
        time.sleep(0.5)
    return server


def time_stylize(client, photo: Path, style: str) -> float:
    from gradio_client import handle_file

    start = time.perf_counter()
    client.predict(api_name="/stylize", content=handle_file(str(photo)), mode="Fast", style=style)
    return time.perf_counter() - start


def start_training(url: str, painting: Path, name: str, minutes: float) -> None:
    """The Make a style tab in Chromium: painting, name, the server's photos, Train."""
    from browser import ensure_chromium
    from playwright.sync_api import sync_playwright

    path, why = ensure_chromium()
    if path is None:
        raise SystemExit(f"no Chromium: {why}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_role("tab", name="Make a style").click()
        page.locator("#ms-painting input[type=file]").first.set_input_files(str(painting))
        page.locator("#ms-painting img").first.wait_for()
        page.locator("#ms-name textarea, #ms-name input").first.fill(name)
        page.locator("#ms-server-photos input").check()
        page.locator("#ms-minutes label", has_text=f"{minutes:g}").first.click()
        page.locator("#ms-train").click()
        page.wait_for_function(
            "() => { const b = document.querySelector('#ms-progress .styler-progress');"
            " return b && b.dataset.state === 'running' }", timeout=300_000)  # fmt: skip
        browser.close()


def distances_on(network: Path, painting: Path, photos: list[Path], optimizer: bool) -> dict:
    """Fast (and optimizer mode's) style and content distances at 512 px, per photo."""
    from styler import Recipe, build_engine
    from styler.evaluate import distances
    from styler.image_sizes import resize_long_side
    from styler.imageio import load_image

    style = load_image(painting).rgb
    fast = build_engine(Recipe.create("fast", [str(network)], device="cpu"))
    slow = build_engine(Recipe.create("optimize", [str(painting)], device="cpu")) if optimizer \
        else None  # fmt: skip
    rows = {}
    for path in photos:
        photo = resize_long_side(load_image(path).rgb, 512)
        row = {"fast": distances(fast.run(photo).image, photo, style).__dict__}
        if slow is not None:
            row["optimizer"] = distances(slow.run(photo).image, photo, style).__dict__
        rows[path.name] = row
        print(path.name, json.dumps(row), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("painting", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--train-photos", type=Path, default=DATA / "train")
    parser.add_argument("--val", type=Path, default=DATA / "val")
    parser.add_argument("--photo", type=Path, default=DATA / "content" / "tubingen.jpg",
                        help="the photo the stylize timings use")  # fmt: skip
    parser.add_argument("--style", default="udnie", help="the fast style they use")
    parser.add_argument("--runs", type=int, default=5, help="stylizes before the training")
    parser.add_argument("--every", type=float, default=30, help="s between stylizes during it")
    parser.add_argument("--val-photos", type=int, default=4)
    parser.add_argument("--optimizer", action="store_true", help="optimizer mode too")
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from gradio_client import Client

    args.out.mkdir(parents=True, exist_ok=True)
    server = start_server(args.out, args.train_photos, args.port)
    url = f"http://127.0.0.1:{args.port}/"
    job = args.out / "styles" / ".training" / args.name
    try:
        client = Client(url, verbose=False)
        time_stylize(client, args.photo, args.style)  # the engine built, the export cached
        idle = [time_stylize(client, args.photo, args.style) for _ in range(args.runs)]
        print(f"Fast stylize, no training: median {statistics.median(idle):.2f} s "
              f"(all: {', '.join(f'{t:.2f}' for t in idle)})", flush=True)  # fmt: skip
        start_training(url, args.painting, args.name, args.minutes)
        busy = []
        while json.loads((job / "status.json").read_text())["state"] in ("queued", "running"):
            busy.append(time_stylize(client, args.photo, args.style))
            time.sleep(args.every)
        status = json.loads((job / "status.json").read_text())
        print(f"Fast stylize during the training: median {statistics.median(busy):.2f} s, "
              f"max {max(busy):.2f} s over {len(busy)} "
              f"(all: {', '.join(f'{t:.2f}' for t in busy)})", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(
        f"training: {status['state']}, {status['step']} steps in "
        f"{status['elapsed'] / 60:.1f} min; manifest distances {status['distances']}"
    )
    manifest = json.loads((args.out / "styles" / "manifest.json").read_text())
    entry = next(e for e in manifest["styles"] if e["name"] == args.name)
    network = args.out / "styles" / entry["file"]
    photos = sorted(args.val.iterdir())[: args.val_photos]
    rows = distances_on(network, args.painting, photos, args.optimizer)
    for kind in ("fast", "optimizer"):
        if all(kind in row for row in rows.values()):
            means = {
                k: statistics.mean(r[kind][k] for r in rows.values()) for k in ("style", "content")
            }
            print(f"{kind}: style {means['style']:.4f}, content {means['content']:.4f} "
                  f"over {len(rows)} validation photos")  # fmt: skip
    print("previews:", *sorted((job / "previews").glob("0*.png")), sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
