"""The feed-forward style network (Johnson et al. family), shaped for CPU speed.

Johnson's network spends most of its time in two 9x9 convolutions at full
resolution. Here the first layer is a pixel-unshuffle (space-to-depth) followed
by a 3x3 convolution at half resolution, which sees the same 4x4 neighbourhood
per output for a fraction of the cost; residual blocks run at 1/8 resolution,
where they are cheap and cover a wide receptive field; skip connections add the
1/4 and 1/2 scale encoder features back into the decoder so the photo's detail
survives the narrow bottleneck; the decoder upsamples (bilinear) then convolves,
which avoids the checkerboard artefacts of transposed convolutions and the
blocks nearest upsampling leaves in flat skies. The last of those steps is
computed at half resolution (BilinearUpConv), never building the upsampled
tensor. A sigmoid bounds the output:
unbounded outputs let training match Grams with out-of-range colours that
inference then clips into flat, saturated patches. Instance
normalisation everywhere, with statistics that can be captured once on a whole
image and replayed on its tiles so tiles match.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from styler.fast.sizes import MIN_SIDE, MULTIPLE, check_size


@dataclass(frozen=True)
class NetworkConfig:
    """Widths at 1/2, 1/4 and 1/8 resolution, and the number of residual blocks."""

    # 7.5 GMAC at 1024x768 (count_macs); (32, 64, 128) x 4 costs 24.9 GMAC. What a pass
    # takes on the CPU: docs/performance.md.
    widths: tuple[int, int, int] = (16, 32, 64)
    res_blocks: int = 5

    def as_dict(self) -> dict:
        return asdict(self)


def _exporting() -> bool:
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


class TileableInstanceNorm(nn.Module):
    """Instance norm (affine) that can reuse statistics captured on another image.

    In 'capture' mode it records per-channel mean and std; in 'replay' mode it
    normalises with those instead of the input's own, so every tile of a large
    image is normalised exactly like the whole image.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps
        self.mode = "instance"
        self.stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "instance" and _exporting():
            # One InstanceNormalization node: onnxruntime runs it in one kernel, where the
            # statistics spelt out took nine nodes and most of an int8 pass (docs/performance.md)
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        if self.mode == "replay" and self.stats is not None:
            mean, std = self.stats
        else:
            var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0)
            std = (var + self.eps).sqrt()
            if self.mode == "capture":
                self.stats = (mean.detach(), std.detach())
        return (x - mean) / std * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class _PixelUnshuffle(nn.Module):
    """Space-to-depth by 2 (each 2x2 block's pixels become channels), exported as a strided
    convolution whose weights each pick one pixel: exact, and onnxruntime runs it far faster
    than the six-dimensional Transpose pixel_unshuffle exports as (docs/fast_mode.md).
    styler.quantize keeps such pixel-picking convolutions in float."""

    CHANNELS = 3  # RGB: a constant, so the exporter writes the weights as one

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not _exporting():
            return F.pixel_unshuffle(x, 2)
        picks = torch.eye(4 * self.CHANNELS, dtype=x.dtype).reshape(-1, self.CHANNELS, 2, 2)
        return F.conv2d(x, picks, stride=2)


# Bilinear 2x upsampling (half-pixel centres) followed by a 3-tap kernel, per axis:
# _PHASE_TAPS[p, u, s] is how much input i-1+u contributes through kernel tap s to
# output 2i+p. Output 2i reads upsampled 2i-1, 2i, 2i+1 = (3/4, 1/4 | 1/4, 3/4 | 3/4, 1/4)
# mixes of inputs (i-1, i | i-1, i | i, i+1); output 2i+1 likewise one place on.
_PHASE_TAPS = torch.tensor(
    [
        [[0.75, 0.25, 0.0], [0.25, 0.75, 0.75], [0.0, 0.0, 0.25]],
        [[0.25, 0.0, 0.0], [0.75, 0.75, 0.25], [0.0, 0.25, 0.75]],
    ]
)


class BilinearUpConv(nn.Module):
    """2x bilinear upsampling then a 3x3 convolution, computed at the input's resolution.

    Both steps are linear, so each of the four output phases (even/odd row, even/odd
    column) is a 3x3 convolution of the small input: one convolution with four times the
    output channels, then a pixel shuffle. The full-resolution upsampled tensor (channels
    x 4HW floats, written, padded and read again) is never made, which saves about a sixth
    of a 1024x768 pass in onnxruntime. Same parameters and, inside the image, the same
    result as nn.Upsample + nn.Conv2d; at the outermost pixels the upsampled image is
    extended by replication instead of reflection.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        conv = nn.Conv2d(cin, cout, 3)  # for its standard initialisation
        self.weight, self.bias = conv.weight, conv.bias
        self.in_channels, self.out_channels = cin, cout

    def phase_weights(self) -> torch.Tensor:
        """(4 * cout, cin, 3, 3): the kernel of each output phase, in pixel-shuffle order."""
        taps = _PHASE_TAPS.to(self.weight)
        phases = torch.einsum("aus,oist,bvt->oabiuv", taps, self.weight, taps)
        return phases.reshape(4 * self.out_channels, self.in_channels, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        bias = self.bias.repeat_interleave(4)
        return F.pixel_shuffle(F.conv2d(padded, self.phase_weights(), bias), 2)


def _upsample() -> nn.Upsample:
    return nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode="reflect")


class _ConvBlock(nn.Sequential):
    def __init__(self, cin: int, cout: int, stride: int = 1, upsample: bool = False) -> None:
        layers: list[nn.Module] = [_upsample()] if upsample else []
        layers += [_conv(cin, cout, stride), TileableInstanceNorm(cout), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels),
            TileableInstanceNorm(channels),
            nn.ReLU(inplace=True),
            _conv(channels, channels),
            TileableInstanceNorm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def padding(side: int) -> int:
    """Pixels to add to `side` to reach the network's working size: rounded up to MULTIPLE,
    and at least MIN_SIDE.

    Written for each exporter: traced by TorchScript, `side` is a tensor and the result a
    graph operation (a Python max() or `if` would freeze the example's choice into the
    graph, which then fails on sides up to 8); under torch.export it is a symbolic int,
    which sym_max keeps symbolic; in eager mode a plain int.
    """
    up = side + (-side % MULTIPLE)
    if isinstance(side, torch.Tensor):
        return torch.clamp(up, min=MIN_SIDE) - side
    return torch.sym_max(up, MIN_SIDE) - side


class StyleNetwork(nn.Module):
    """RGB in [0, 1] of any size -> stylized RGB of the same size."""

    def __init__(self, config: NetworkConfig | None = None) -> None:
        super().__init__()
        self.config = config or NetworkConfig()
        w1, w2, w3 = self.config.widths
        self.encoder = nn.Sequential(
            _PixelUnshuffle(),  # 3 x H x W -> 12 x H/2 x W/2, no information lost
            _ConvBlock(12, w1),
            _ConvBlock(w1, w2, stride=2),
            _ConvBlock(w2, w3, stride=2),
        )
        self.residuals = nn.Sequential(*[_ResidualBlock(w3) for _ in range(self.config.res_blocks)])
        self.decoder = nn.Sequential(
            _ConvBlock(w3, w2, upsample=True),
            _ConvBlock(w2, w1, upsample=True),
            BilinearUpConv(w1, 3),
        )

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        h, w = rgb.shape[-2:]
        if not _exporting():  # a traced graph cannot keep this check; OnnxRunner makes it
            check_size(h, w)
        # Always pad (a no-op copy when aligned), with no shape-dependent branch, so
        # exported graphs stay valid for every size.
        x = F.pad(rgb, (0, padding(w), 0, padding(h)), mode="replicate")
        half = self.encoder[1](self.encoder[0](x))
        quarter = self.encoder[2](half)
        eighth = self.residuals(self.encoder[3](quarter))
        # Skips from the encoder carry the photo's detail past the 1/8-scale bottleneck,
        # which alone loses fine structure (windows, faces) at these small widths.
        quarter = self.decoder[0](eighth) + quarter
        half = self.decoder[1](quarter) + half
        return torch.sigmoid(self.decoder[2](half))[..., :h, :w]

    def norms(self) -> Iterator[TileableInstanceNorm]:
        return (m for m in self.modules() if isinstance(m, TileableInstanceNorm))

    @contextmanager
    def shared_statistics(self, whole: torch.Tensor) -> Iterator[None]:
        """Inside the block, every forward uses the normalisation stats of `whole`."""
        for norm in self.norms():
            norm.mode = "capture"
        with torch.no_grad():
            self(whole)
        for norm in self.norms():
            norm.mode = "replay"
        try:
            yield
        finally:
            for norm in self.norms():
                norm.mode, norm.stats = "instance", None


def count_macs(config: NetworkConfig, width: int = 1024, height: int = 768) -> int:
    """Multiply-accumulates of one forward pass at the given size (convolutions only)."""
    net = StyleNetwork(config)
    total = 0

    def hook(module: nn.Conv2d | BilinearUpConv, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, BilinearUpConv):  # 4 phases x 9 taps per input pixel = 9 per output
            total += output.numel() * module.in_channels * 9
        else:
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * module.in_channels * k // module.groups

    counted = (nn.Conv2d, BilinearUpConv)
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, counted)]
    with torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    for handle in handles:
        handle.remove()
    return total
