"""The training loop fast-mode networks and instant-mode decoders share.

Both are trained the same way: Adam with a warm-up and cosine learning rate, a data order
that is a pure function of (seed, step), an evaluation every `eval_every` steps that keeps
the best network, and an atomic checkpoint every `checkpoint_every` steps. So `resume`
continues exactly where a run stopped, even after kill -9, and what each kind of network
adds is only its loss, its evaluation and what its file records.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from styler.errors import OptionsError
from styler.fast.weights import checkpoint_bytes, read_checkpoint
from styler.imageio import atomic_write_bytes
from styler.settings import file_digest

# Settings a resumed run may change: how long it runs, how often it reports, where its files
# are and what computes it. Every other setting says what it learns, so a checkpoint made
# with other values of them is refused rather than continued under the new ones.
SCHEDULE_SETTINGS = frozenset({"steps", "minutes", "max_minutes", "eval_every", "checkpoint_every",
                               "patience", "output", "device", "bf16"})  # fmt: skip


class Schedule(Protocol):
    """The settings of a run that the shared loop reads."""

    steps: int
    learning_rate: float
    warmup: int
    eval_every: int
    checkpoint_every: int
    max_minutes: float | None
    seed: int

    def checkpoint_path(self) -> Path: ...

    def log_path(self) -> Path: ...


def _identity(value: Any) -> Any:
    """A setting as a checkpoint remembers it: a file by its content (it may be moved), a
    folder by its name, anything else as it is."""
    if isinstance(value, (list, tuple)):
        return [_identity(item) for item in value]
    if isinstance(value, str) and value and os.path.isfile(value):
        return {"file": Path(value).name, "sha256": file_digest(value)}
    if isinstance(value, str) and value and os.path.isdir(value):
        return {"folder": Path(value).resolve().name}
    return value


def _shown(value: Any) -> str:
    """A remembered setting in a message: files by name, since their digests say nothing."""
    if isinstance(value, list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(value, dict):
        return value.get("file") or value.get("folder") or json.dumps(value)
    return json.dumps(value)


class FilesBesideOutput:
    """Settings whose run keeps its checkpoint and its log beside its output file."""

    output: str

    def checkpoint_path(self) -> Path:
        return Path(self.output).with_suffix(".ckpt")

    def log_path(self) -> Path:
        return Path(self.output).with_suffix(".log.jsonl")


@dataclass
class TrainState:
    """What a checkpoint restores besides tensors."""

    step: int = 0
    elapsed: float = 0.0
    best_val: float = math.inf
    best_step: int = 0
    evals_since_best: int = 0


def learning_rate(config: Schedule, step: int, done: float | None = None) -> float:
    """Linear warm-up, then cosine decay to a tenth. `done` is the share of the decay behind
    us where something other than the step count says it (a time budget)."""
    if step < config.warmup:
        return config.learning_rate * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    progress = progress if done is None else done
    return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


class CheckpointedTraining:
    """The loop; subclasses set config, net, optimizer and state, then implement
    `_train_step` (one optimiser step, through `_optimiser_step`) and `_evaluate`."""

    config: Schedule
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    state: TrainState

    def _learning_settings(self) -> dict[str, Any]:
        """What the run learns from: the settings outside SCHEDULE_SETTINGS, as remembered
        (`_identity`). Subclasses add what they take besides their config."""
        learned = {k: _identity(v) for k, v in asdict(self.config).items()
                   if k not in SCHEDULE_SETTINGS}  # fmt: skip
        return json.loads(json.dumps(learned))

    def _check_same_settings(self, checkpoint: dict[str, Any]) -> None:
        """OptionsError naming each setting that differs from the checkpoint's run (a
        checkpoint from before settings were recorded is taken as it is)."""
        if "settings" not in checkpoint:
            return
        then, now = json.loads(checkpoint["settings"]), self._learning_settings()
        changed = [
            f"{name.replace('_', ' ')} {_shown(then.get(name))} -> {_shown(now.get(name))}"
            for name in sorted(then.keys() | now.keys()) if then.get(name) != now.get(name)
        ]
        if changed:
            path = self.config.checkpoint_path()
            raise OptionsError(
                f"{path}: this checkpoint was trained with other settings ({'; '.join(changed)});"
                f" resume with the settings it was made with, or delete it to start afresh"
            )

    def _resume(self) -> None:
        """Continue from the checkpoint, when there is one made with the same settings."""
        if self.config.checkpoint_path().is_file():
            checkpoint = read_checkpoint(self.config.checkpoint_path())
            self._check_same_settings(checkpoint)
            self.net.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.state = TrainState(**json.loads(checkpoint["state"]))
            self._truncate_log()

    def _truncate_log(self) -> None:
        """Drop log lines written after the checkpoint (they will be redone) or cut by a kill."""
        path = self.config.log_path()
        if not path.is_file():
            return
        kept = []
        for line in path.read_text().splitlines():
            try:
                if json.loads(line)["step"] <= self.state.step:
                    kept.append(line + "\n")
            except (ValueError, KeyError):
                continue
        atomic_write_bytes(path, "".join(kept).encode())

    def _checkpoint(self) -> None:
        payload = {
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "state": json.dumps(asdict(self.state)),
            "settings": json.dumps(self._learning_settings()),
        }
        atomic_write_bytes(self.config.checkpoint_path(), checkpoint_bytes(payload))

    def _append_log(self, record: dict[str, Any]) -> None:
        with self.config.log_path().open("a") as log:
            log.write(json.dumps(record) + "\n")

    def _is_new_best(self, val_loss: float) -> bool:
        """Track the best validation loss (the caller saves the network when True)."""
        state = self.state
        if val_loss < state.best_val:
            state.best_val, state.best_step, state.evals_since_best = val_loss, state.step, 0
            return True
        state.evals_since_best += 1
        return False

    def _evaluated(
        self, terms: dict[str, float], train_loss: float, save: Callable[[], None], **extra: Any
    ) -> dict[str, Any]:
        """Keep the network when `terms["total"]` is the best yet (`save`), log the evaluation
        with `extra` first, and return the log record."""
        best = self._is_new_best(terms["total"])
        if best:
            save()
        record = {
            **extra,
            "step": self.state.step,
            "elapsed": round(self.state.elapsed, 1),
            "train_loss": train_loss,
            "val": terms,
            "best": best,
            "lr": self.optimizer.param_groups[0]["lr"],
        }
        self._append_log(record)
        return record

    def _summary(self, data: list[str], **extra: Any) -> dict[str, Any]:
        """What a network's file records of its training: `extra`, the step, the time, the
        data folders' names and the settings (paths left out)."""
        settings = {
            k: v for k, v in asdict(self.config).items() if k not in ("data", "val", "output")
        }
        return {
            **extra,
            "step": self.state.step,
            "elapsed_s": round(self.state.elapsed, 1),
            "data": [Path(d).name for d in data],
            "settings": settings,
        }

    def _optimiser_step(
        self, loss_of: Callable[[random.Random], torch.Tensor], clip: float
    ) -> float:
        """One step at the scheduled rate; `loss_of` draws its batch from the step's rng."""
        config, step = self.config, self.state.step
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(config, step, self._decay_done())
        rng = random.Random(config.seed * 1_000_003 + step)  # data order survives resumes
        self.optimizer.zero_grad(set_to_none=True)
        loss = loss_of(rng)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), clip)
        self.optimizer.step()
        return float(loss.detach())

    def _decay_done(self) -> float | None:
        """The learning rate's decay share behind us, None to follow the step count."""
        return None

    def _train_step(self) -> float:
        raise NotImplementedError

    def _evaluate(self, train_loss: float) -> Any:
        raise NotImplementedError

    def _stops_early(self) -> bool:
        """True when evaluations say more steps would not help (no early stop by default)."""
        return False

    def run(
        self,
        on_step: Callable[[int, float], None] | None = None,
        on_eval: Callable[[Any], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> TrainState:
        """Train until done, out of time, stopped early or cancelled; checkpoint at the end."""
        config, state = self.config, self.state
        started = time.perf_counter() - state.elapsed
        running = None
        while state.step < config.steps:
            if should_stop is not None and should_stop():
                break
            if config.max_minutes is not None and state.elapsed > 60 * config.max_minutes:
                break
            loss_value = self._train_step()
            running = loss_value if running is None else 0.9 * running + 0.1 * loss_value
            state.step += 1
            state.elapsed = time.perf_counter() - started
            if on_step is not None:
                on_step(state.step, running)
            if state.step % config.eval_every == 0 or state.step == config.steps:
                evaluation = self._evaluate(running)
                if on_eval is not None:
                    on_eval(evaluation)
            if state.step % config.checkpoint_every == 0:
                self._checkpoint()
            if self._stops_early():
                break
        self._checkpoint()
        return state
