"""The int8 twin of a fast network: folding, distillation with resume, and its file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from styler.fast.distill import TwinTrainer, average_statistics, folded_twin
from styler.fast.network import NetworkConfig, StyleNetwork, TileableInstanceNorm
from styler.fast.train import TrainConfig
from styler.fast.twin import read_twin, save_twin
from tests.conftest import gradient_photo, stripe_style
from tests.test_fast import _photo_folder

TINY = NetworkConfig(widths=(8, 16, 16), res_blocks=1)


@pytest.fixture
def teacher() -> StyleNetwork:
    torch.manual_seed(0)
    net = StyleNetwork(TINY).eval()
    with torch.no_grad():  # normalisations that do something, so folding them is tested
        for norm in net.norms():
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.3, 0.3)
    return net


def _photos(count: int) -> list[torch.Tensor]:
    return [torch.from_numpy(np.array(gradient_photo(48, 40, seed=s))).permute(2, 0, 1)[None]
            .float() / 255 for s in range(count)]  # fmt: skip


def test_the_folded_twin_is_the_teacher_with_its_trunk_frozen(teacher: StyleNetwork) -> None:
    statistics = average_statistics(teacher, _photos(3))
    twin = folded_twin(teacher, statistics)
    kept = [n for n, m in twin.named_modules() if isinstance(m, TileableInstanceNorm)]
    assert kept == ["encoder.1.1", "encoder.2.1", "decoder.0.2", "decoder.1.2"]
    for module in twin.residuals.modules():  # compare the arithmetic alone: the padding
        if isinstance(module, torch.nn.Conv2d):
            assert module.padding_mode == "zeros"
            module.padding_mode = "reflect"
    names = [n for n, m in teacher.named_modules() if isinstance(m, TileableInstanceNorm)]
    for name, norm, (mean, std) in zip(names, teacher.norms(), statistics, strict=True):
        if name not in kept:
            norm.mode, norm.stats = "replay", (mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1))
    photo = _photos(5)[4]
    with torch.no_grad():
        assert torch.allclose(twin(photo), teacher(photo), atol=1e-5)


def _fresh_twin(teacher: StyleNetwork) -> StyleNetwork:
    return folded_twin(teacher, average_statistics(teacher, _photos(2)))


def _config(tmp_path: Path, name: str, steps: int) -> TrainConfig:
    style = tmp_path / "style.png"
    stripe_style().save(style)
    return TrainConfig(styles=[str(style)], data=str(_photo_folder(tmp_path / f"t{name}", 4)),
                       val=str(_photo_folder(tmp_path / f"v{name}", 2)),
                       output=str(tmp_path / f"{name}.safetensors"), steps=steps, batch=2, crop=48,
                       val_count=2, style_size=64, eval_every=2, checkpoint_every=2, warmup=1,
                       learning_rate=1e-3, widths=TINY.widths,
                       res_blocks=TINY.res_blocks)  # fmt: skip


def test_the_twin_trains_on_style_and_anchor_resumes_and_keeps_its_best(
    teacher: StyleNetwork, tmp_path: Path
) -> None:
    straight = _config(tmp_path, "a", 6)
    trainer = TwinTrainer(straight, teacher, _fresh_twin(teacher), 1.0, {"teacher": "tiny"})
    trainer.run()
    log = [json.loads(line) for line in straight.log_path().read_text().splitlines()]
    assert [e["step"] for e in log] == [2, 4, 6]
    assert all(e["val_terms"]["anchor"] > 0 and e["val_terms"]["style"] > 0 for e in log)
    best = read_twin(Path(straight.output))
    assert best.state_dict().keys() == _fresh_twin(teacher).state_dict().keys()

    split = _config(tmp_path, "b", 6)
    first = TwinTrainer(split, teacher, _fresh_twin(teacher), 1.0, {})
    first.run(should_stop=lambda: first.state.step >= 2)  # as if killed after step 2
    resumed = TwinTrainer(split, teacher, _fresh_twin(teacher), 1.0, {}, resume=True)
    assert resumed.state.step == 2
    resumed.run()
    for (name, x), y in zip(resumed.net.state_dict().items(), trainer.net.state_dict().values(),
                            strict=True):  # fmt: skip
        assert torch.allclose(x, y, atol=1e-5), name


def test_the_shift_term_trains_and_resumes_to_the_same_twin(
    teacher: StyleNetwork, tmp_path: Path
) -> None:
    """The term that teaches a twin to paint a moved photo moved (steadier video)."""
    straight = _config(tmp_path, "c", 4)
    trainer = TwinTrainer(straight, teacher, _fresh_twin(teacher), 1.0, {}, shift_weight=1.0)
    trainer.run()
    log = [json.loads(line) for line in straight.log_path().read_text().splitlines()]
    assert all(e["val_terms"]["shift"] > 0 for e in log)
    assert trainer.info()["shift_weight"] == 1.0
    split = _config(tmp_path, "d", 4)
    first = TwinTrainer(split, teacher, _fresh_twin(teacher), 1.0, {}, shift_weight=1.0)
    first.run(should_stop=lambda: first.state.step >= 2)
    resumed = TwinTrainer(split, teacher, _fresh_twin(teacher), 1.0, {}, resume=True,
                          shift_weight=1.0)  # fmt: skip
    resumed.run()
    for x, y in zip(resumed.net.state_dict().values(), trainer.net.state_dict().values(),
                    strict=True):  # fmt: skip
        assert torch.allclose(x, y, atol=1e-5)


def test_a_twin_file_round_trips(teacher: StyleNetwork, tmp_path: Path) -> None:
    twin = folded_twin(teacher, average_statistics(teacher, _photos(2)))
    save_twin(twin, tmp_path / "t.safetensors", {"teacher": "x"})
    again = read_twin(tmp_path / "t.safetensors")
    photo = _photos(1)[0]
    with torch.no_grad():
        assert torch.equal(again(photo), twin.eval()(photo))
