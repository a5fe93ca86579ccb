"""Instant mode's student encoder: VGG19 pruned, distilled against it, shipped and used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from styler.errors import WeightsError
from styler.instant.distill import EncoderDistillConfig, EncoderDistiller
from styler.instant.files import decoders_dir
from styler.instant.student import LEVEL, StudentConfig, StudentEncoder, pruned_from
from styler.instant.stylizer import networks_on
from styler.instant.torch_networks import loaded_networks
from styler.instant.train import DecoderTrainConfig, DecoderTrainer
from styler.instant.weights import load_encoder, read_student, save_student
from styler.vgg import VGG19Features
from tests.conftest import GALLERY

# Relative squared error of the shipped student's relu4_1 against VGG19's on the gallery
# photos at 256 px, measured 0.14-0.21 (docs/instant_mode.md, "The student encoder"); a
# pruned, untrained student is at 0.97.
SHIPPED_ERROR_BOUND = 0.3
SMALL = StudentConfig((4, 4, 8, 8, 8, 8, 8, 8, 512))  # the loop is under test, not the fit


@pytest.fixture(scope="module")
def vgg() -> VGG19Features:
    return VGG19Features([LEVEL])


def _photo(name: str, side: int = 256) -> torch.Tensor:
    image = Image.open(GALLERY / "photos" / name).convert("RGB")
    image = image.resize((side, side * image.height // image.width // 8 * 8))
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255


def _error(student: StudentEncoder, vgg: VGG19Features, image: torch.Tensor) -> float:
    with torch.no_grad():
        teacher, own = vgg(image, [LEVEL])[LEVEL], student(image)[LEVEL]
    return float(((own - teacher) ** 2).sum() / (teacher**2).sum())


def test_pruning_keeps_vgg_filters_and_relu4_1_shape(vgg: VGG19Features) -> None:
    student = pruned_from(vgg)
    first_vgg = vgg.body[0].weight
    first = student.convs()[0].weight
    norms = first_vgg.abs().sum(dim=(1, 2, 3))
    kept = torch.sort(torch.topk(norms, first.shape[0]).indices).values
    assert torch.equal(first, first_vgg[kept])
    conv4_1 = [m for m in vgg.body if isinstance(m, torch.nn.Conv2d)][-1]
    assert torch.equal(student.convs()[-1].bias, conv4_1.bias)  # all 512 channels kept
    out = student(torch.rand(1, 3, 64, 96))[LEVEL]
    assert out.shape == (1, 512, 8, 12) and out.min() >= 0
    with pytest.raises(ValueError, match="only relu4_1"):
        student(torch.rand(1, 3, 64, 96), ["relu3_1"])


def test_shipped_student_is_checked_and_close_to_vgg(vgg: VGG19Features) -> None:
    loaded = load_encoder()
    assert loaded is not None, "weights/instant ships a student encoder"
    student, info = loaded
    assert info["level"] == LEVEL and info["step"] > 0
    photos = sorted((GALLERY / "photos").glob("*.jpg"))
    errors = [_error(student, vgg, _photo(p.name)) for p in photos]
    assert max(errors) < SHIPPED_ERROR_BOUND
    assert _error(pruned_from(vgg), vgg, _photo("astronaut.jpg")) > 0.8
    manifest = json.loads((decoders_dir() / "manifest.json").read_text())
    entry = manifest["encoders"][0]
    with pytest.raises(WeightsError, match="sha256 does not match"):
        read_student(decoders_dir() / entry["file"], "0" * 64)


def test_instant_mode_runs_on_the_student_unless_the_folder_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(loaded_networks(torch.device("cpu")).encoder, StudentEncoder)
    assert networks_on("cpu", "fp32").encoder_note.startswith("student")
    folder = tmp_path / "instant"
    folder.mkdir()
    manifest = json.loads((decoders_dir() / "manifest.json").read_text())
    for entry in manifest["decoders"]:
        (folder / entry["file"]).write_bytes((decoders_dir() / entry["file"]).read_bytes())
    (folder / "manifest.json").write_text(json.dumps({"decoders": manifest["decoders"]}))
    assert load_encoder(folder) is None  # a folder without a student: VGG19 encodes


def test_distillation_trains_logs_and_resumes_exactly(tmp_path: Path, vgg: VGG19Features) -> None:
    setup = {
        "data": [str(GALLERY / "photos"), str(GALLERY / "styles")],
        "val": str(GALLERY / "photos"),
        "steps": 4,
        "batch": 2,
        "crop": 64,
        "val_count": 2,
        "eval_every": 2,
        "checkpoint_every": 2,
        "warmup": 1,
        "whitening_crops": 4,
        "widths": SMALL.widths,
    }
    straight = EncoderDistillConfig(output=str(tmp_path / "s.safetensors"), **setup)
    state = EncoderDistiller(straight).run()
    log = [json.loads(line) for line in straight.log_path().read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and {"plain", "whitened"} <= set(log[0]["val"])
    assert state.best_step in (2, 4) and np.isfinite(state.best_val)

    split = EncoderDistillConfig(output=str(tmp_path / "r.safetensors"), **setup)
    first = EncoderDistiller(split)
    first.run(should_stop=lambda: first.state.step >= 2)  # as if killed after step 2
    EncoderDistiller(split, resume=True).run()
    a, b = read_student(straight.output)[0], read_student(split.output)[0]
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.allclose(x, y, atol=1e-6), name

    # A decoder fine-tunes on the student's features (how the shipped one was adapted).
    save_student(a, tmp_path / "student.safetensors", {"level": LEVEL})
    tuned = DecoderTrainConfig(
        level=LEVEL, data=[str(GALLERY / "photos")], val=str(GALLERY / "photos"),
        output=str(tmp_path / "d.safetensors"), steps=1, batch=2, crop=64, val_count=2,
        eval_every=1, checkpoint_every=1, warmup=1, width_divisor=8, objective="stylization",
        styles=[str(GALLERY / "styles")], encoder_from=str(tmp_path / "student.safetensors"),
    )  # fmt: skip
    trainer = DecoderTrainer(tuned)
    assert isinstance(trainer.encoder, StudentEncoder)
    trainer.run()
    assert json.loads(tuned.log_path().read_text().splitlines()[-1])["val"]["style"] > 0
