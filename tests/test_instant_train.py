"""Instant-mode decoder training for real: a few steps on gallery images, both stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from styler.errors import OptionsError
from styler.instant.decoder import Decoder, DecoderConfig, pruned_from
from styler.instant.train import DecoderTrainConfig, DecoderTrainer, fine_tune_decoder
from styler.instant.weights import read_decoder, save_decoder
from tests.conftest import GALLERY

SETUP = {
    "level": "relu4_1",
    "data": [str(GALLERY / "photos")],
    "val": str(GALLERY / "photos"),
    "batch": 2,
    "crop": 64,
    "val_count": 2,
    "eval_every": 2,
    "checkpoint_every": 2,
    "warmup": 1,
    "width_divisor": 8,  # a narrow decoder: the loop is under test, not the painting
}


def _weights(path: str) -> dict[str, torch.Tensor]:
    return read_decoder(path)[0].state_dict()


def test_reconstruction_trains_logs_and_resumes_exactly(tmp_path: Path) -> None:
    straight = DecoderTrainConfig(output=str(tmp_path / "s.safetensors"), steps=4, **SETUP)
    state = DecoderTrainer(straight).run()
    log = [json.loads(line) for line in straight.log_path().read_text().splitlines()]
    assert [record["step"] for record in log] == [2, 4]
    assert {"pixel", "feature", "total"} <= set(log[0]["val"])
    assert state.best_val == min(record["val"]["total"] for record in log)

    split = DecoderTrainConfig(output=str(tmp_path / "r.safetensors"), steps=4, **SETUP)
    first = DecoderTrainer(split)
    first.run(should_stop=lambda: first.state.step >= 2)  # as if killed after step 2
    resumed = DecoderTrainer(split, resume=True)
    assert resumed.state.step == 2
    resumed.run()
    if log[-1]["best"]:  # both runs then saved the decoder of step 4
        for (name, a), b in zip(
            _weights(straight.output).items(), _weights(split.output).values(), strict=True
        ):
            assert torch.allclose(a, b, atol=1e-5), name
    lines = split.log_path().read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [2, 4]  # nothing logged twice


def test_stylization_fine_tunes_from_a_reconstruction_decoder(tmp_path: Path) -> None:
    first = DecoderTrainConfig(output=str(tmp_path / "rec.safetensors"), steps=2, **SETUP)
    DecoderTrainer(first).run()
    tuned = DecoderTrainConfig(
        output=str(tmp_path / "tuned.safetensors"),
        steps=2,
        objective="stylization",
        styles=[str(GALLERY / "styles")],
        init_from=first.output,
        **{k: v for k, v in SETUP.items() if k != "data"},
        data=[str(GALLERY / "photos")],
    )
    trainer = DecoderTrainer(tuned)
    start = {k: v.clone() for k, v in trainer.net.state_dict().items()}
    assert all(torch.equal(start[k], v) for k, v in _weights(first.output).items())
    trainer.run()
    record = json.loads(tuned.log_path().read_text().splitlines()[-1])
    assert {"content", "style", "total"} <= set(record["val"])
    _, info = read_decoder(tuned.output)
    assert info["settings"]["objective"] == "stylization"

    # Once more from the tuned file (how a shipped decoder is fine-tuned further): the level
    # and the width come from the file, not from the defaults.
    again = tmp_path / "again.safetensors"
    state = fine_tune_decoder(tuned.output, again, [str(GALLERY / "photos")],
                              str(GALLERY / "photos"), [str(GALLERY / "styles")], steps=1,
                              minutes=5, learning_rate=1e-4)  # fmt: skip
    net, info = read_decoder(again)
    assert state.step == 1 and info["settings"]["init_from"] == tuned.output
    assert net.config.width_divisor == SETUP["width_divisor"]


def test_stylization_needs_style_folders() -> None:
    with pytest.raises(OptionsError, match="style image folders"):
        DecoderTrainConfig(output="x.safetensors", objective="stylization", **SETUP)


def test_pruning_keeps_the_teachers_largest_filters() -> None:
    torch.manual_seed(0)
    teacher = Decoder(DecoderConfig("relu4_1", 4))
    student = pruned_from(teacher, 8)
    pairs = list(zip(teacher.convs(), student.convs(), strict=True))
    assert [t.out_channels // 2 for t, _ in pairs[:-1]] == [s.out_channels for _, s in pairs[:-1]]
    assert pairs[0][1].in_channels == 512 and pairs[-1][1].out_channels == 3
    inputs = list(range(512))
    for source, target in pairs:  # every filter is one of the teacher's, on kept inputs
        kept = [int(torch.nonzero(source.bias == b).flatten()[0]) for b in target.bias]
        assert kept == sorted(kept)
        assert torch.equal(target.weight, source.weight[kept][:, inputs])
        norms = source.weight[:, inputs].abs().sum(dim=(1, 2, 3))
        dropped = [i for i in range(len(norms)) if i not in kept]
        if dropped:  # the largest L1 norms stay
            assert min(norms[kept]) >= max(norms[dropped])
        inputs = kept
    with pytest.raises(ValueError, match="thinner"):
        pruned_from(teacher, 2)


def _two_steps_from(tmp_path: Path, width_divisor: int, **options: object) -> tuple:
    """(state, decoder, info, last log record) of two fine-tuning steps from a fresh decoder
    of that width, saved as tmp_path/start.safetensors."""
    torch.manual_seed(0)
    start = tmp_path / "start.safetensors"
    save_decoder(Decoder(DecoderConfig("relu4_1", width_divisor)), start, {"level": "relu4_1"})
    tuned = tmp_path / "tuned.safetensors"
    state = fine_tune_decoder(start, tuned, [str(GALLERY / "photos")], str(GALLERY / "photos"),
                              [str(GALLERY / "styles")], steps=2, minutes=5,
                              learning_rate=1e-4, **options)  # fmt: skip
    net, info = read_decoder(tuned)
    log = DecoderTrainConfig("relu4_1", [], "", str(tuned)).log_path()
    return state, net, info, json.loads(log.read_text().splitlines()[-1])


def test_a_thinner_decoder_distils_from_its_teacher(tmp_path: Path) -> None:
    state, net, info, record = _two_steps_from(tmp_path, 4, thinner=8)
    assert state.step == 2 and net.config.width_divisor == 8
    assert info["settings"]["teacher_from"] == str(tmp_path / "start.safetensors")
    assert info["settings"]["init_from"] is None
    assert record["val"]["teacher"] > 0 and {"content", "style"} <= set(record["val"])
    with pytest.raises(OptionsError, match="stylization objective"):
        DecoderTrainConfig(output="x.safetensors", teacher_from="t.safetensors", **SETUP)


def test_the_shift_term_fine_tunes_a_decoder(tmp_path: Path) -> None:
    """The decoder learns to paint a photo moved by a few pixels moved (steadier video)."""
    state, _, info, record = _two_steps_from(tmp_path, 8, shift=2.0)
    assert state.step == 2 and info["settings"]["shift_weight"] == 2.0
    assert record["val"]["shift"] > 0 and {"content", "style"} <= set(record["val"])
    with pytest.raises(OptionsError, match="shift term"):
        DecoderTrainConfig(output="x.safetensors", shift_weight=1.0, **SETUP)


def test_the_deepest_level_can_weigh_more(tmp_path: Path) -> None:
    """relu5_1's Gram term weighs `deep` against each other level's 1 in the objective; the
    log's style stays the plain mean, and relu5_1's own term is logged beside it."""
    state, _, info, record = _two_steps_from(tmp_path, 8, deep=3.0)
    assert state.step == 2 and info["settings"]["deep_weight"] == 3.0
    val = record["val"]
    assert val["deep"] > 0 and {"content", "style"} <= set(val)
    deep_share = 3 / 7  # relu5_1's weight over the five levels' 1 + 1 + 1 + 1 + 3
    others = (5 * val["style"] - val["deep"]) / 4  # the four shallower levels' mean
    weighted = deep_share * val["deep"] + (1 - deep_share) * others
    assert val["total"] == pytest.approx(0.5 * val["content"] + weighted, rel=1e-4)
    with pytest.raises(OptionsError, match="deepest level"):
        DecoderTrainConfig(output="x.safetensors", deep_weight=0.0, **SETUP)
