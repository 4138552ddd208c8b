"""The SimGAN refiner R (Shrivastava et al. 2017, §3.1 and appendix).

Fully convolutional with no striding or pooling, so R(x) has x's size and every output pixel
depends only on a local window of x (receptive field 3 + 4 * blocks pixels): refinement
changes appearance, not geometry, which is what keeps the annotations valid.

Optional `noise_channels` (0 = the paper's R) append deterministic pseudo-random fields to the
input: a hash of each pixel's position, its 8-bit value and the image's content. A deterministic
R fed only a clean render cannot make sensor noise; with these fields it can (shaping, scaling
and correlating them), while R(x) stays a pure function of x, so refining is reproducible.

Optional `holes` (depth crops) adds a hole head: per pixel a logit l, and the pixel becomes a
hole (+1, the far plane) where l + logit(u) > 0, u a pseudo-noise field of the input of its
own. That is a Bernoulli(sigmoid(l)) draw which is still a pure function of x. A depth camera
drops pixels at random along depth edges (bench/hand_gap.py: those drop-outs carry all the
gain a hand refiner can earn); without the head R can only learn holes as a smooth function of
x, and it cuts the cheapest ones (unbroken runs along the forearm) instead of scattered ones.
Training passes the relaxed draw's gradient through the hard one (straight-through
Gumbel-sigmoid, temperature HOLE_TEMPERATURE), so D and the self-regularization set each
place's hole rate.

Optional `hole_blobs` gives the head a second logit whose draw uses a spatially correlated field
(a Gaussian blur of HOLE_BLOB_SIGMA px, mapped back to uniform so the rate is still the
logit's sigmoid): a pixel is a hole where either draw fires. Independent pixels are the sensor's
ragged edges; correlated ones its drop-out blobs, which independent draws make only as salt.

Optional `tone` mixes R's image with its own histogram equalization at a learnt share alpha, per
image: (1 - alpha) y + alpha equalize(y). A fully convolutional R sees a 19 px window, so it cannot
make a per-image grey-level map, yet real MPIIGaze patches are histogram-equalized (their
normalization does it) and clean renders are not; without the head R can only stretch contrast
locally. The map is monotone per image, so it moves no edge: the self-regularization reads R's
image before it (`forward(x, parts=True)`), and D alone sets alpha. On the eyes D sets 0.45-0.77,
and gaze gets worse (1.04x synthetic against 0.90x over 3 R seeds; BENCHMARKS.md, "A refiner
that may add noise or equalize"), so it is off.
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

PADDINGS = ("zeros", "replicate", "edge")
HOLE_START_LOGIT = -4.0  # ~2 % holes anywhere at the start; pretraining (self-regularization) lowers it
HOLE_TEMPERATURE = 0.5
HOLE_BLOB_SIGMA = 4.0  # px of the blob field's blur: real_val over 3 estimator seeds, BENCHMARKS.md "Hole blobs"
TONE_KNOTS = 64  # the soft CDF is taken at these grey levels over [-1, 1] and interpolated between them
TONE_SOFTNESS = 0.02  # the soft CDF's sigmoid width, [-1, 1] units (~2.5 grey levels)
# alpha's logit is the parameter times this gain (an equalized learning rate): Adam moves a weight by
# ~lr a step, so a plain logit could change by only ~0.05 in a CPU run's few hundred R steps
TONE_GAIN = 50.0


def _mix32(h: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (lowbias32, C. Wellons) on int64 tensors, exact on every device."""
    mask = 0xFFFFFFFF
    h = h ^ (h >> 16)
    h = (h * 0x7FEB352D) & mask
    h = h ^ (h >> 15)
    h = (h * 0x846CA68B) & mask
    return h ^ (h >> 16)


def pseudo_noise(x: torch.Tensor, channels: int, first: int = 0) -> torch.Tensor:
    """(N, channels, H, W) uniform noise in [-1, 1) that is a deterministic function of x.

    Fields are numbered: this returns fields first .. first + channels - 1, so two users of one
    input can draw independent fields.
    """
    n, _, h, w = x.shape
    levels = ((x[:, :1].detach().float().clamp(-1, 1) + 1) * 127.5).round().long()  # (N, 1, H, W)
    image_seed = _mix32(levels.flatten(1).sum(1) & 0xFFFFFFFF)[:, None, None, None]
    iy = torch.arange(h, device=x.device)[:, None]
    ix = torch.arange(w, device=x.device)[None, :]
    k = torch.arange(first, first + channels, device=x.device)[:, None, None]
    h32 = _mix32((levels * 0x9E3779B1 + image_seed + _mix32(iy * 0x10001 + ix * 0x3C6EF372 + k * 0x1B873593))
                 & 0xFFFFFFFF)
    return (h32.float() / 2.0 ** 31 - 1).to(x.dtype)


def _blob_radius(sigma: float) -> int:
    """Half-width of blob_field's Gaussian kernel: 3 sigma, at least 1 px."""
    return max(1, math.ceil(3 * sigma))


@functools.cache
def _blob_kernel(sigma: float) -> torch.Tensor:
    """blob_field's normalized 1-D Gaussian (CPU, float32), built once per sigma."""
    r = _blob_radius(sigma)
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def blob_field(u: torch.Tensor, sigma: float = HOLE_BLOB_SIGMA) -> torch.Tensor:
    """Uniform (0, 1) fields (N, C, H, W) made spatially correlated and still uniform per pixel:
    to normal scores, a separable Gaussian blur (reflected border), rescaled to unit variance
    (a blur of independent unit normals has sd sum(k^2) per pass pair), back to uniform.

    Always float32, outside autocast: a bf16 blur would round the field before it maps back to
    uniform, and the draw's rate would no longer be exactly the logit's sigmoid."""
    r = _blob_radius(sigma)
    k = _blob_kernel(sigma).to(u.device)
    c = u.shape[1]
    with torch.autocast(device_type=u.device.type, enabled=False):
        z = torch.special.ndtri(u.float())
        z = F.conv2d(F.pad(z, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        z = F.conv2d(F.pad(z, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
        return torch.special.ndtr(z / k.pow(2).sum())


def blob_blur_taps(sigma: float = HOLE_BLOB_SIGMA) -> int:
    """Multiply-adds per pixel of blob_field's two blur passes."""
    return 2 * (2 * _blob_radius(sigma) + 1)


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with an identity skip (the paper's ResNet block)."""

    def __init__(self, channels: int, padding: str = "zeros"):
        super().__init__()
        self.trim = 2 if padding == "edge" else 0  # unpadded convs: the skip is cut to the output
        pad = {} if padding == "edge" else {"padding": 1, "padding_mode": padding}
        self.conv1 = nn.Conv2d(channels, channels, 3, **pad)
        self.conv2 = nn.Conv2d(channels, channels, 3, **pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.trim
        skip = x[..., t:-t, t:-t] if t else x
        return torch.relu(skip + self.conv2(torch.relu(self.conv1(x))))


class Refiner(nn.Module):
    """3x3 conv to `channels` maps, `blocks` ResNet blocks, 1x1 conv to the input channels, tanh.

    Inputs and outputs are images in [-1, 1] of shape (N, in_channels, H, W), any H, W.
    `padding` is the convolutions' padding mode: with zeros (the paper's), each of the 9 padded
    convolutions sees a dark frame, and R learns a visible border that D can use as a tell (on
    hands, where the background is +1, a line along the crop's edge); "replicate" extends every
    layer's maps instead. "edge" extends the input once by the receptive field's radius (edge
    pixels repeated) and runs every convolution unpadded: each output pixel, the border's too,
    is computed as an interior pixel of the extended image, so a flat region stays flat up to the
    edge, at ~1.3x the zero-padded FLOPs (replicate pads 9 times: 1.7x the time).
    `holes`: the hole head (the module doc); its output pixels are exactly +1 or R's value.
    `hole_blobs` (with `holes`): a second, spatially correlated hole draw (the module doc).
    `tone`: the tone head (the module doc); alpha starts at 0.5.
    """

    def __init__(self, in_channels: int = 1, channels: int = 64, blocks: int = 4, noise_channels: int = 0,
                 padding: str = "zeros", holes: bool = False, hole_blobs: bool = False, tone: bool = False):
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding {padding!r}: expected one of {PADDINGS}")
        if hole_blobs and not holes:
            raise ValueError("hole_blobs needs holes")
        self.noise_channels = noise_channels
        self.margin = 1 + 2 * blocks if padding == "edge" else 0  # the receptive field's radius
        pad = {} if padding == "edge" else {"padding": 1, "padding_mode": padding}
        self.stem = nn.Conv2d(in_channels + noise_channels, channels, 3, **pad)
        with torch.no_grad():  # R starts deaf to the noise: it learns the identity as fast as without it
            self.stem.weight[:, in_channels:].zero_()
        self.blocks = nn.Sequential(*(ResnetBlock(channels, padding) for _ in range(blocks)))
        self.head = nn.Conv2d(channels, in_channels, 1)
        self.hole = None
        if holes:
            self.hole = nn.Conv2d(channels, 1 + int(hole_blobs), 1)  # with blobs: (blob, pixel) logits
            nn.init.zeros_(self.hole.weight)
            nn.init.constant_(self.hole.bias, HOLE_START_LOGIT)
        self.tone = nn.Parameter(torch.zeros(())) if tone else None  # alpha's logit / TONE_GAIN

    @property
    def hole_blobs(self) -> bool:
        return self.hole is not None and self.hole.out_channels == 2

    @property
    def equalized_share(self) -> torch.Tensor | None:
        """The tone head's alpha: 0 leaves R's image, 1 equalizes its histogram (None: no head)."""
        return None if self.tone is None else torch.sigmoid(TONE_GAIN * self.tone)

    def forward(self, x: torch.Tensor, parts: bool = False):
        """R(x); with parts=True also the image the self-regularization reads (R's before the tone
        map; R(x) itself without a tone head)."""
        refined = self._refine(x)
        out = refined if self.tone is None else self._equalize(refined)
        return (out, refined) if parts else out

    def _equalize(self, y: torch.Tensor) -> torch.Tensor:
        """(1 - alpha) y + alpha equalize(y) per image; equalize maps a grey level to the image's
        soft (differentiable) CDF at it, taken at TONE_KNOTS knots and interpolated. float32: a bf16
        CDF would band the grey levels."""
        with torch.autocast(device_type=y.device.type, enabled=False):
            flat = y.float().flatten(1)
            knots = torch.linspace(-1, 1, TONE_KNOTS, device=y.device)
            cdf = torch.sigmoid((knots[None, :, None] - flat[:, None, :]) / TONE_SOFTNESS).mean(2)  # (N, K)
            pos = (flat.clamp(-1, 1) + 1) / 2 * (TONE_KNOTS - 1)
            lo = pos.detach().floor().clamp(max=TONE_KNOTS - 2).long()
            frac = pos - lo
            c_lo, c_hi = cdf.gather(1, lo), cdf.gather(1, lo + 1)
            equalized = (c_lo + frac * (c_hi - c_lo)) * 2 - 1
            alpha = self.equalized_share
            return ((1 - alpha) * flat + alpha * equalized).view_as(y).to(y.dtype)

    def _refine(self, x: torch.Tensor) -> torch.Tensor:
        source = x
        if self.margin:
            x = F.pad(x, (self.margin,) * 4, mode="replicate")
        if self.noise_channels:
            x = torch.cat([x, pseudo_noise(x, self.noise_channels)], dim=1)
        h = self.blocks(torch.relu(self.stem(x)))
        refined = torch.tanh(self.head(h))
        if self.hole is None:
            return refined
        # the draws' fields come after R's input fields, so none is one R also sees
        draws = self.hole.out_channels
        u = ((pseudo_noise(source, draws, first=self.noise_channels).float() + 1) / 2).clamp(1e-4, 1 - 1e-4)
        if self.hole_blobs:
            u = torch.cat([blob_field(u[:, :1]).clamp(1e-4, 1 - 1e-4), u[:, 1:]], dim=1)
        z = self.hole(h).float() + torch.log(u) - torch.log1p(-u)
        hard = (z > 0).any(dim=1, keepdim=True).float()
        soft = 1 - torch.prod(1 - torch.sigmoid(z / HOLE_TEMPERATURE), dim=1, keepdim=True)  # either draw
        hole = hard + (soft - soft.detach())  # exactly 0 or 1 forward, the soft gradient back
        return (refined.float() * (1 - hole) + hole).to(source.dtype)


def refiner_flops(channels: int, blocks: int, height: int, width: int, in_channels: int = 1,
                  noise_channels: int = 0, holes: bool = False, hole_blobs: bool = False) -> int:
    """Forward FLOPs (2 per multiply-add) of one image through `Refiner`: every conv keeps H x W."""
    macs_per_pixel = (9 * (in_channels + noise_channels) * channels + blocks * 2 * 9 * channels * channels
                      + channels * (in_channels + int(holes) + int(hole_blobs))
                      + (blob_blur_taps() if hole_blobs else 0))
    return 2 * macs_per_pixel * height * width
