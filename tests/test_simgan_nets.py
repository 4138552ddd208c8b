"""Refiner and discriminator shapes and structure (docs/simgan.md)."""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from pipeline.nets.discriminator import GlobalDiscriminator, LocalDiscriminator, build_discriminator
from pipeline.nets.refiner import Refiner, blob_field, pseudo_noise, refiner_flops


@pytest.mark.parametrize("shape", [(35, 55), (64, 64)])
def test_refiner_keeps_size_and_range(shape):
    r = Refiner(1, 8, 2)
    y = r(torch.randn(3, 1, *shape) * 3)
    assert y.shape == (3, 1, *shape)
    assert y.abs().max() < 1


def test_refiner_has_no_striding_or_pooling():
    r = Refiner(1, 8, 4)
    convs = [m for m in r.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 + 2 * 4 + 1
    assert all(m.stride == (1, 1) for m in convs)
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Linear)) for m in r.modules())


def test_refiner_is_local():
    """A pixel change far outside the receptive field (3 + 4 * blocks) leaves an output pixel as it was."""
    torch.manual_seed(0)
    r = Refiner(1, 8, 2).eval()  # receptive field 11 px
    x = torch.rand(1, 1, 35, 55) * 2 - 1
    x2 = x.clone()
    x2[0, 0, 30, 50] = -x2[0, 0, 30, 50] + 0.5
    with torch.no_grad():
        y, y2 = r(x), r(x2)
    assert torch.equal(y[0, 0, 5, 5], y2[0, 0, 5, 5])
    assert not torch.equal(y[0, 0, 30, 50], y2[0, 0, 30, 50])


def test_replicate_padding_extends_a_flat_image_without_a_border():
    """Zero padding makes a constant image's border pixels differ from its centre; replicate does not."""
    torch.manual_seed(0)
    x = torch.full((1, 1, 35, 55), 0.3)
    with torch.no_grad():
        zeros, replicate = Refiner(1, 8, 2)(x), Refiner(1, 8, 2, padding="replicate")(x)
    assert (zeros[0, 0, 0] - zeros[0, 0, 17, 27]).abs().max() > 1e-3
    assert torch.allclose(replicate, replicate[0, 0, 17, 27].expand_as(replicate), atol=1e-6)


@pytest.mark.parametrize("padding", ["replicate", "edge"])
def test_refiner_border_rows_and_columns_match_the_interior(padding):
    """No tells: an untrained R on constant images (a hand crop's +1 background, a flat
    eye) gives border rows and columns equal to the interior, and on a crop with a hand in the
    middle the background at the border equals the background inside; zeros padding fails both."""
    torch.manual_seed(0)
    hand = torch.ones(1, 1, 64, 64)
    hand[0, 0, 24:40, 20:44] = -0.2
    for x in (torch.ones(1, 1, 64, 64), torch.full((1, 1, 35, 55), 0.3), hand):
        for noise in (0, 2):
            with torch.no_grad():
                y = Refiner(1, 8, 2, noise_channels=noise, padding=padding)(x)[0, 0]
                y0 = Refiner(1, 8, 2, noise_channels=noise)(x)[0, 0]
            assert y.shape == x.shape[2:]
            ref = y[10, 5]  # background (or the flat image) inside, away from the hand
            for edge in (y[0], y[-1], y[:, 0], y[:, -1]):
                assert torch.allclose(edge, ref.expand_as(edge), atol=1e-6)
            assert (y0[-1] - y0[10, 5]).abs().max() > 1e-3 or noise  # zeros: the bottom row differs


def test_refiner_edge_padding_keeps_the_weights_and_locality():
    """"edge" is the same net (same weights, loadable across modes) with each output pixel still a
    function of its 11 px window only."""
    r0, r1 = Refiner(1, 8, 2), Refiner(1, 8, 2, padding="edge")
    r1.load_state_dict(r0.state_dict())
    x = torch.rand(1, 1, 35, 55) * 2 - 1
    x2 = x.clone()
    x2[0, 0, 30, 50] += 0.5
    with torch.no_grad():
        y, y2 = r1(x), r1(x2)
        assert torch.allclose(y[..., 8:-8, 8:-8], r0(x)[..., 8:-8, 8:-8], atol=1e-5)  # the interiors agree
    assert torch.equal(y[0, 0, 5, 5], y2[0, 0, 5, 5]) and not torch.equal(y[0, 0, 30, 50], y2[0, 0, 30, 50])


def test_local_discriminator_patch_map():
    assert LocalDiscriminator()(torch.zeros(2, 1, 35, 55)).shape == (2, 2, 9, 14)
    assert LocalDiscriminator()(torch.zeros(2, 1, 64, 64)).shape == (2, 2, 16, 16)


def test_global_discriminator_one_logit_pair_per_image():
    for shape in [(35, 55), (64, 64)]:
        assert GlobalDiscriminator()(torch.zeros(2, 1, *shape)).shape == (2, 2, 1, 1)


def test_discriminator_width_scales_maps():
    narrow, paper = build_discriminator("local", width=0.5), build_discriminator("local")
    assert sum(p.numel() for p in narrow.parameters()) < sum(p.numel() for p in paper.parameters()) / 3
    with pytest.raises(ValueError, match="unknown discriminator"):
        build_discriminator("patchy")


def test_refiner_flops_match_flop_counter():
    r = Refiner(1, 16, 3)
    with FlopCounterMode(display=False) as counter:
        r(torch.zeros(2, 1, 35, 55))
    assert counter.get_total_flops() == 2 * refiner_flops(16, 3, 35, 55)  # batch of 2


def test_pseudo_noise_is_deterministic_uniform_and_differs_between_images():
    x = torch.rand(4, 1, 35, 55) * 2 - 1
    z = pseudo_noise(x, 2)
    assert z.shape == (4, 2, 35, 55) and torch.equal(z, pseudo_noise(x.clone(), 2))
    assert z.min() >= -1 and z.max() < 1 and abs(z.mean()) < 0.02 and abs(z.std() - 3 ** -0.5) < 0.02
    flat = torch.zeros(2, 1, 35, 55)
    flat[1, 0, 0, 0] = 0.5  # one pixel differs: the whole field differs (a per-image seed)
    zf = pseudo_noise(flat, 1)
    assert zf[0].std() > 0.5 and (zf[0] != zf[1]).float().mean() > 0.99
    # numbered fields: a later field is the same whichever call draws it, and differs from field 0
    assert torch.equal(pseudo_noise(x, 1, first=1), z[:, 1:]) and (z[:, 0] != z[:, 1]).float().mean() > 0.99


def test_refiner_with_noise_fields_is_a_function_of_its_input():
    r = Refiner(1, 8, 2, noise_channels=2).eval()
    x = torch.rand(2, 1, 35, 55) * 2 - 1
    with torch.no_grad():
        assert torch.equal(r(x), r(x.clone()))
    assert r.stem.in_channels == 3
    assert not r.stem.weight[:, 1:].any()  # deaf to the noise until training says otherwise
    with FlopCounterMode(display=False) as counter:
        r(x)
    assert counter.get_total_flops() == 2 * refiner_flops(8, 2, 35, 55, noise_channels=2)


def test_refiner_holes_are_far_plane_pixels_drawn_at_the_logits_rate_and_the_same_for_the_same_input():
    torch.manual_seed(0)
    r = Refiner(1, 8, 1, 2, "edge", holes=True)
    x = torch.rand(4, 1, 48, 48) * 1.6 - 0.9
    y = r(x)
    assert torch.equal(y, r(x.clone()))                      # a pure function of x: refining is reproducible
    plain = Refiner(1, 8, 1, 2, "edge")
    plain.load_state_dict({k: v for k, v in r.state_dict().items() if not k.startswith("hole.")})
    holes = y == 1
    assert torch.allclose(y[~holes], plain(x)[~holes], atol=1e-6)  # elsewhere R's depth, untouched
    assert 0.005 < holes.float().mean() < 0.05                     # sigmoid(-4) = 1.8 %
    with torch.no_grad():
        r.hole.bias.fill_(0.0)
    assert 0.45 < (r(x) == 1).float().mean() < 0.55                # sigmoid(0) = 50 %
    with FlopCounterMode(display=False) as counter:
        Refiner(1, 8, 1, 2, holes=True)(x)
    assert counter.get_total_flops() == 4 * refiner_flops(8, 1, 48, 48, noise_channels=2, holes=True)


def test_refiner_hole_blobs_are_correlated_draws_at_the_logits_rate():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 96, 96) * 1.6 - 0.9
    r = Refiner(1, 8, 1, 0, "edge", holes=True, hole_blobs=True)
    assert torch.equal(r(x), r(x.clone()))
    with torch.no_grad():
        r.hole.bias.copy_(torch.tensor([-1.0, -30.0]))    # blobs only, at sigmoid(-1) = 27 %
    blobs = (r(x) == 1).float()
    with torch.no_grad():
        r.hole.bias.copy_(torch.tensor([-30.0, -1.0]))    # independent pixels only, at the same rate
    pixels = (r(x) == 1).float()
    for holes in (blobs, pixels):
        assert 0.22 < holes.mean() < 0.32
    def neighbour_agreement(h):                           # P(right neighbour is a hole | a hole)
        return float((h[..., 1:] * h[..., :-1]).sum() / h[..., :-1].sum())
    assert neighbour_agreement(pixels) < 0.35 and neighbour_agreement(blobs) > 0.8
    with torch.no_grad():
        r.hole.bias.copy_(torch.tensor([-1.0, -1.0]))     # either draw: 1 - (1 - 0.27) ** 2 = 46 %
    assert 0.40 < (r(x) == 1).float().mean() < 0.52
    with FlopCounterMode(display=False) as counter:
        Refiner(1, 8, 1, 2, holes=True, hole_blobs=True)(x)
    assert counter.get_total_flops() == 4 * refiner_flops(8, 1, 96, 96, noise_channels=2, holes=True, hole_blobs=True)
    with pytest.raises(ValueError, match="hole_blobs needs holes"):
        Refiner(1, 8, 1, hole_blobs=True)


def test_blob_field_is_float32_under_autocast():
    # a bf16 blur would round the field before it maps back to uniform (the draw's rate)
    u = torch.rand(2, 1, 40, 40, generator=torch.Generator().manual_seed(0)).clamp(1e-4, 1 - 1e-4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = blob_field(u)
    assert under.dtype == torch.float32 and torch.equal(under, blob_field(u))
    assert Refiner(1, 8, 1, holes=True, hole_blobs=True).hole_blobs
    assert not Refiner(1, 8, 1, holes=True).hole_blobs and not Refiner(1, 8, 1).hole_blobs


def test_refiner_hole_rate_learns_from_the_loss():
    r = Refiner(1, 8, 1, 2, "edge", holes=True)
    x = torch.rand(2, 1, 32, 32) * 1.6 - 0.9
    (1 - r(x)).abs().mean().backward()  # a loss that wants holes
    assert r.hole.bias.grad < 0         # gradient descent raises the hole logit


def test_refiner_tone_head_mixes_in_a_monotone_equalization_at_the_learnt_share():
    torch.manual_seed(0)
    r = Refiner(1, 8, 1, 0, "replicate", tone=True)
    plain = Refiner(1, 8, 1, 0, "replicate")
    plain.load_state_dict({k: v for k, v in r.state_dict().items() if k != "tone"})
    x = torch.rand(4, 1, 35, 55) * 2 - 1
    with torch.no_grad():
        toned, kept = r(x, parts=True)
        assert torch.equal(kept, plain(x)) and torch.equal(toned, r(x))  # psi reads R's image before the map
        assert abs(float(r.equalized_share) - 0.5) < 1e-6
        r.tone.fill_(-1.0)                                    # share sigmoid(-50): R's own image
        assert torch.allclose(r(x), plain(x), atol=1e-6)
        r.tone.fill_(1.0)                                     # share 1: the image equalized
        skewed = 0.3 * x + 0.6 * x ** 3                        # most grey levels near the middle
        flat = r._equalize(skewed).flatten(1)
        equalized = r(x)
    by_input = flat.gather(1, skewed.flatten(1).argsort(1))
    assert (by_input.diff(dim=1) > -1e-6).all()               # monotone: no edge moves
    levels = torch.linspace(0.1, 0.9, 5)
    assert torch.allclose(torch.quantile(flat, levels, dim=1).T, levels * 2 - 1, atol=0.03)  # a flat histogram
    assert not torch.allclose(torch.quantile(skewed.flatten(1), levels, dim=1).T, levels * 2 - 1, atol=0.03)
    with torch.autocast("cpu", dtype=torch.bfloat16):        # the map is float32 inside, cast back
        assert r(x).dtype == torch.bfloat16
    r.tone.data.fill_(0.0)                                    # half equalized
    (r(x) - equalized).abs().mean().backward()                # a loss that wants the equalized image
    assert r.tone.grad < 0                                    # descent raises the share
    no_head = Refiner(1, 8, 1)
    out, same = no_head(x, parts=True)
    assert same is out and no_head.equalized_share is None
