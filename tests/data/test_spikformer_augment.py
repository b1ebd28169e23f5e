"""The IMP code's N-Caltech101 augmentation (SpikFormerDVS): one operation per sample, the same on every frame."""

import math

import pytest
import torch

from spikedyn.data.augment import affine
from spikedyn.data.events.spikformer_augment import (
    IMP_NCALTECH101_CONFIG_SPACE,
    OPERATIONS,
    SPIKFORMER_DVS_SPACE,
    Draw,
    SpikformerDVSAugment,
    apply_operation,
)

H = W = 48


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def draws(space, count: int = 600, seed: int = 0) -> list[Draw]:
    augment = SpikformerDVSAugment(space, generator=seeded(seed))
    return [augment.draw(H, W) for _ in range(count)]


def test_the_spaces_are_the_reference_codes():
    assert list(SPIKFORMER_DVS_SPACE) == ["Identity", "ShearX", "TranslateX", "TranslateY", "Rotate", "Cutout"]
    assert list(IMP_NCALTECH101_CONFIG_SPACE) == list(OPERATIONS)
    expected = {"ShearX": (-0.3, 0.3), "TranslateX": (-5.0, 5.0), "TranslateY": (-5.0, 5.0), "Rotate": (-30.0, 30.0), "Cutout": (1.0, 30.0)}
    for name, (low, high) in expected.items():
        bins, signed = SPIKFORMER_DVS_SPACE[name]
        assert signed and len(bins) == 31 and bins == tuple(torch.linspace(low, high, 31).tolist())
    assert IMP_NCALTECH101_CONFIG_SPACE["TranslateY"][0] == tuple(torch.linspace(-0.5, 5.0, 31).tolist())
    assert SPIKFORMER_DVS_SPACE["Identity"] == ((), False)


@pytest.mark.parametrize("space", [SPIKFORMER_DVS_SPACE, IMP_NCALTECH101_CONFIG_SPACE])
def test_every_operation_is_drawn_with_a_magnitude_of_its_bins_and_either_sign(space):
    seen = draws(space)
    assert {d.operation for d in seen} == set(space)
    for d in seen:
        bins, signed = space[d.operation]
        allowed = {0.0} if not bins else set(bins) | ({-b for b in bins} if signed else set())
        assert d.magnitude in allowed
        assert (d.box is not None) == (d.operation == "Cutout")
    rotations = [d.magnitude for d in seen if d.operation == "Rotate"]
    assert min(rotations) < -10 and max(rotations) > 10 and all(abs(m) <= 30 for m in rotations)
    assert all(abs(d.magnitude) <= 0.3 + 1e-7 for d in seen if d.operation.startswith("Shear"))  # float32 bins, as torch.linspace
    assert all(abs(int(d.magnitude)) <= 5 for d in seen if d.operation.startswith("Translate"))


def test_the_cutout_box_is_a_square_of_at_most_eleven_percent_of_the_image():
    boxes = [d.box for d in draws(SPIKFORMER_DVS_SPACE, 2000) if d.operation == "Cutout"]
    assert len(boxes) > 100
    for top, left, h, w in boxes:
        assert h == w and h <= round(math.sqrt(0.11 * H * W)) and 0 <= top <= H - h and 0 <= left <= W - w
    assert len({box[2] for box in boxes}) > 5


def test_one_operation_per_sample_the_same_on_every_frame():
    frames = torch.randint(0, 4, (6, 2, H, W)).float()
    for seed in range(30):
        out = SpikformerDVSAugment(IMP_NCALTECH101_CONFIG_SPACE, generator=seeded(seed))(frames)
        drawn = SpikformerDVSAugment(IMP_NCALTECH101_CONFIG_SPACE, generator=seeded(seed)).draw(H, W)
        assert torch.equal(out, apply_operation(frames, drawn))
        for t in range(len(frames)):
            assert torch.equal(out[t], apply_operation(frames[t], drawn))
        assert set(out.unique().tolist()) <= set(frames.unique().tolist()) | {0.0}  # nearest: counts stay counts


def test_operations_act_as_torchvision_does_in_the_reference_code():
    image = torch.rand(1, 9, 9) + 1
    assert torch.equal(apply_operation(image, Draw("Identity")), image)
    shifted = apply_operation(image, Draw("TranslateX", -4.6))  # int(-4.6) = -4 pixels: left
    assert torch.equal(shifted[..., :5], image[..., 4:]) and torch.all(shifted[..., 5:] == 0)
    down = apply_operation(image, Draw("TranslateY", 2.9))  # int(2.9) = 2 pixels: down
    assert torch.equal(down[..., 2:, :], image[..., :7, :]) and torch.all(down[..., :2, :] == 0)
    # torchvision's shear=[d, 0] maps x to x - tan(d) * y: a pixel above the centre moves right
    dot = torch.zeros(1, 9, 9)
    dot[0, 2, 4] = 1.0
    moved = apply_operation(dot, Draw("ShearX", math.radians(45)))
    assert moved[0, 2, 6] == 1 and moved.sum() == 1
    moved = apply_operation(dot.transpose(-1, -2), Draw("ShearY", math.radians(45)))
    assert moved[0, 6, 2] == 1 and moved.sum() == 1
    # F.rotate turns counter-clockwise: the top centre goes to the left centre
    assert torch.equal(apply_operation(image, Draw("Rotate", 90.0)), affine(image, angle=90.0, mode="nearest"))
    erased = apply_operation(image, Draw("Cutout", 3.0, (1, 2, 3, 3)))
    assert torch.all(erased[:, 1:4, 2:5] == 0) and int((erased == 0).sum()) == 9
    assert torch.equal(apply_operation(image, Draw("Cutout", 3.0, None)), image)


def test_the_draws_follow_the_generator():
    assert draws(SPIKFORMER_DVS_SPACE, 50, seed=3) == draws(SPIKFORMER_DVS_SPACE, 50, seed=3)
    assert draws(SPIKFORMER_DVS_SPACE, 50, seed=3) != draws(SPIKFORMER_DVS_SPACE, 50, seed=4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"space": {}},
        {"space": {"Brightness": ((0.1,), True)}},
        {"space": {"Rotate": ((float("nan"),), True)}},
        {"space": {"Rotate": ((1.0,), "yes")}},
        {"mode": "bicubic"},
        {"cutout_scale": (0.2, 0.1)},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        SpikformerDVSAugment(**kwargs)


def test_integer_frames_and_unknown_draws_are_refused():
    with pytest.raises(ValueError, match="floating-point"):
        SpikformerDVSAugment()(torch.zeros(2, 2, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="unknown operation 'Posterize'"):
        apply_operation(torch.zeros(1, 4, 4), Draw("Posterize", 4.0))
