"""Training a prepared style job (styler.fast.style_jobs): fine-tuning from the base
network within its time budget, from its checkpoint when there is one, with its status and
a preview about every minute written as it goes; at the end, or at Stop, the best network
is measured on the validation photos and published as the user style of the job's name."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from styler.errors import StylerError
from styler.fast.photo_files import image_files
from styler.fast.style_jobs import (
    DONE,
    FAILED,
    FINE_TUNE_STEPS,
    INTERRUPTED,
    RUNNING,
    STOP_FILE,
    STOPPED,
    VAL_COUNT,
    JobError,
    JobSpec,
    JobStatus,
    clear_stop_request,
    job_dir,
    locked,
    read_spec,
    read_status,
    write_status,
)
from styler.fast.train import Evaluation, TrainConfig, Trainer
from styler.fast.user_styles import publish
from styler.image_sizes import resize_long_side
from styler.imageio import load_image
from styler.tensors import to_tensor

PREVIEW_SIDE = 384  # long side of the preview photo


def train_config(spec: JobSpec, folder: Path) -> TrainConfig:
    """The job's TrainConfig: fine-tuning from the base, for its minutes."""
    values: dict[str, Any] = {"steps": FINE_TUNE_STEPS, "val_count": VAL_COUNT}
    values.update(spec.settings)
    return TrainConfig(styles=[spec.painting], data=spec.data, val=spec.val,
                       output=str(folder / "net.safetensors"), base=spec.base,
                       minutes=spec.minutes, **values)  # fmt: skip


def run_job(
    name: str, *, on_status: Callable[[JobStatus], None] | None = None,
    should_stop: Callable[[], bool] | None = None, queued: bool = False,
) -> JobStatus:  # fmt: skip
    """Train the job (from its checkpoint when there is one), then publish its best network;
    returns the final status. Stop (the `stop` file, or `should_stop`) ends it early and
    still publishes; JobError when another process trains it or it is finished. `queued`:
    started by the UI's queue, which cleared stale stop requests when it queued the job, so
    a stop file now was asked of this run (a Stop pressed while it started)."""
    folder = job_dir(name)
    if not (folder / "job.json").is_file():
        raise JobError(f"there is no training of {name!r} to run")
    with locked(folder) as free:
        if not free:
            raise JobError(f"the training of {name!r} is running already")
        if not queued:
            clear_stop_request(folder)
        return _JobRun(folder, on_status, should_stop).run()


class _JobRun:
    """One process's turn at a job: the trainer, its previews and status, the publishing."""

    def __init__(self, folder: Path, on_status: Callable[[JobStatus], None] | None,
                 should_stop: Callable[[], bool] | None) -> None:  # fmt: skip
        self.folder, self.on_status, self.should_stop = folder, on_status, should_stop
        self.spec = read_spec(folder)
        self.status = read_status(folder)
        self.stopped = False
        self.last_written = 0.0
        self.last_preview = time.monotonic()

    def run(self) -> JobStatus:
        if self.status.state == DONE:
            raise JobError(f"the training of {self.spec.name!r} is finished")
        self.status.state, self.status.message = RUNNING, "Loading the painting and photos…"
        self._write(force=True)
        try:
            self.trainer = Trainer(train_config(self.spec, self.folder), resume=True)
            self.status.message = ""
            self.trainer.run(on_step=self._on_step, on_eval=self._on_eval,
                             should_stop=self._stop_now)  # fmt: skip
            self._preview()
            return self._finish()
        except BaseException as exc:
            self.status.state = INTERRUPTED if isinstance(exc, KeyboardInterrupt) else FAILED
            self.status.message = _reason(exc)
            self._write(force=True)
            raise
        finally:
            clear_stop_request(self.folder)  # answered: a later run must not see it

    def _stop_now(self) -> bool:
        if (self.folder / STOP_FILE).exists() or (self.should_stop and self.should_stop()):
            self.stopped = True
        return self.stopped

    def _on_step(self, step: int, loss: float) -> None:
        if self.spec.step_delay_s:
            time.sleep(self.spec.step_delay_s)
        self.status.step, self.status.loss = step, loss
        self.status.elapsed, self.status.done = self.trainer.state.elapsed, self.trainer.done()
        if time.monotonic() - self.last_preview >= self.spec.preview_s:
            self._preview()
        self._write()

    def _on_eval(self, evaluation: Evaluation) -> None:
        self.status.best_val = self.trainer.state.best_val
        self._write(force=True)

    @torch.no_grad()
    def _preview(self) -> None:
        """The preview photo through the network as it is now: previews/NNN.png and
        previews/latest.png."""
        photo = resize_long_side(load_image(self.spec.preview_photo).rgb, PREVIEW_SIDE)
        net = self.trainer.net
        net.eval()
        out = net(to_tensor(photo, self.trainer.device))[0]
        net.train()
        image = Image.fromarray(out.clamp(0, 1).mul(255).byte().permute(1, 2, 0).cpu().numpy())
        folder = self.folder / "previews"
        folder.mkdir(exist_ok=True)
        self.status.previews += 1
        image.save(folder / f"{self.status.previews:03d}-step{self.status.step}.png")
        temp = folder / "latest.tmp.png"
        image.save(temp)
        os.replace(temp, folder / "latest.png")
        self.last_preview = time.monotonic()
        self._write(force=True)

    def _finish(self) -> JobStatus:
        """Publish the best network (measured on the validation photos) and say so."""
        status, trainer = self.status, self.trainer
        network = Path(trainer.config.output)
        # Out of time or stopped between evaluations: the last steps get theirs (and a run
        # stopped before its first evaluation a network).
        if trainer.state.step % trainer.config.eval_every or not network.is_file():
            trainer.evaluate(status.loss if status.loss is not None else float("nan"))
        status.message = "Measuring the new style on the validation photos…"
        self._write(force=True)
        status.distances = measure(network, self.spec)
        info = trainer.info()
        info["settings"]["minutes"] = self.spec.minutes
        publish(self.spec.name, network, Path(self.spec.painting),
                title=self.spec.name,
                training={**info, "painting": self.spec.painting_name},
                distances=status.distances)  # fmt: skip
        status.state = STOPPED if self.stopped and status.done < 1 else DONE
        status.message = ""
        self._write(force=True)
        return status

    def _write(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_written < 1.0:
            return
        write_status(self.folder, self.status)
        self.last_written = time.monotonic()
        if self.on_status is not None:
            self.on_status(self.status)


def measure(network: Path, spec: JobSpec) -> dict[str, float]:
    """Mean style and content distances (styler.evaluate, 512 px) of the network on the
    first validation photos: what `styler styles` lists beside it."""
    from styler.engine import build_engine
    from styler.evaluate import EVAL_SIZE, StyleReference, content_distance
    from styler.recipe import Recipe

    reference = StyleReference(load_image(spec.painting).rgb)
    engine = build_engine(Recipe.create("fast", [str(network)], device="cpu"))
    totals = {"style": 0.0, "content": 0.0}
    files = image_files(spec.val)[: spec.distance_photos]
    for path in files:
        photo = resize_long_side(load_image(path).rgb, EVAL_SIZE)
        output = engine.run(photo).image
        totals["style"] += reference.distance(output) / len(files)
        totals["content"] += content_distance(output, photo) / len(files)
    totals["photos"] = len(files)
    return {k: round(v, 4) for k, v in totals.items()}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted: resume it to continue from its last checkpoint"
    if isinstance(exc, StylerError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
