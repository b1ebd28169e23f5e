import itertools

import pytest
import torch

from spikedyn.data.augment import (
    Compose,
    NeuromorphicAugment,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomErasing,
    RandomHorizontalFlip,
    Resize,
    affine,
    erase,
)
from spikedyn.data.events.spikformer_augment import IMP_NCALTECH101_CONFIG_SPACE, SpikformerDVSAugment


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


RANDOM_TRANSFORMS = {
    "crop": lambda g: RandomCrop(6, padding=2, generator=g),
    "flip": lambda g: RandomHorizontalFlip(generator=g),
    "affine": lambda g: RandomAffine(30, translate=(0.2, 0.2), scale=(0.8, 1.2), shear=10, generator=g),
    "affine_nearest": lambda g: RandomAffine(30, translate=(0.2, 0.2), mode="nearest", generator=g),
    "nda": lambda g: NeuromorphicAugment(max_roll=2, generator=g),
    "erasing": lambda g: RandomErasing(p=0.8, generator=g),
    "spikformer": lambda g: SpikformerDVSAugment(IMP_NCALTECH101_CONFIG_SPACE, generator=g),
}


@pytest.mark.parametrize("name", RANDOM_TRANSFORMS)
def test_every_step_of_a_sequence_gets_the_same_random_transform(name):
    frames = torch.rand(5, 2, 8, 8)
    for seed in range(5):
        out = RANDOM_TRANSFORMS[name](seeded(seed))(frames)
        for t in range(5):
            torch.testing.assert_close(out[t], RANDOM_TRANSFORMS[name](seeded(seed))(frames[t]))
        same = RANDOM_TRANSFORMS[name](seeded(seed))(frames[:1].expand(5, -1, -1, -1))
        assert all(torch.equal(same[0], same[t]) for t in range(5))


@pytest.mark.parametrize("name", RANDOM_TRANSFORMS)
def test_a_seeded_generator_reproduces_the_draws_and_different_seeds_differ(name):
    image = torch.rand(2, 8, 8)
    first = [RANDOM_TRANSFORMS[name](seeded(seed))(image) for seed in range(8)]
    again = [RANDOM_TRANSFORMS[name](seeded(seed))(image) for seed in range(8)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert any(not torch.equal(first[0], other) for other in first[1:])


def test_random_crop_is_a_window_of_the_zero_padded_image():
    image = torch.rand(3, 10, 12) + 1  # no zeros of its own
    padded = torch.zeros(3, 16, 18)
    padded[:, 3:13, 3:15] = image
    crop = RandomCrop((8, 9), padding=3, generator=seeded())
    seen = set()
    for _ in range(30):
        out = crop(image)
        assert out.shape == (3, 8, 9)
        windows = [(top, left) for top, left in itertools.product(range(9), range(10)) if torch.equal(out, padded[:, top : top + 8, left : left + 9])]
        assert len(windows) == 1
        seen.add(windows[0])
    assert len(seen) > 5


def test_random_crop_larger_than_the_padded_image_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        RandomCrop(12, padding=1)(torch.rand(1, 8, 8))


def test_flip_is_torch_flip_of_the_width_or_nothing():
    image = torch.rand(2, 4, 5)
    assert torch.equal(RandomHorizontalFlip(p=1.0)(image), torch.flip(image, dims=(2,)))
    assert torch.equal(RandomHorizontalFlip(p=0.0)(image), image)
    flip = RandomHorizontalFlip(generator=seeded())
    outcomes = {torch.equal(flip(image), image) for _ in range(20)}
    assert outcomes == {True, False}


def test_affine_with_identity_parameters_is_the_identity():
    frames = torch.rand(3, 2, 7, 9)
    torch.testing.assert_close(affine(frames), frames)
    torch.testing.assert_close(RandomAffine(0, generator=seeded())(frames), frames)
    torch.testing.assert_close(affine(frames, mode="nearest"), frames)


def test_a_quarter_turn_takes_the_top_centre_pixel_to_the_left_centre():
    image = torch.zeros(1, 5, 5)
    image[0, 0, 2] = 1.0  # top centre; counter-clockwise by 90 degrees it goes to the middle of the left edge
    expected = torch.zeros(1, 5, 5)
    expected[0, 2, 0] = 1.0
    torch.testing.assert_close(affine(image, angle=90.0), expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(RandomAffine((90.0, 90.0))(image), expected, atol=1e-5, rtol=0)


def test_a_half_turn_of_a_rectangle_flips_both_axes():
    image = torch.rand(2, 4, 6)
    torch.testing.assert_close(affine(image, angle=180.0), torch.flip(image, dims=(1, 2)), atol=1e-5, rtol=0)


def test_translation_and_shear_move_pixels_as_computed_by_hand():
    image = torch.rand(1, 5, 5) + 1
    shifted = affine(image, translate=(1.0, 0.0))  # one pixel right, zeros come in on the left
    torch.testing.assert_close(shifted[..., 1:], image[..., :-1])
    assert torch.all(shifted[..., 0] == 0)
    dot = torch.zeros(1, 5, 5)
    dot[0, 3, 2] = 1.0  # one pixel below the centre: a 45-degree x-shear moves it one pixel right
    expected = torch.zeros(1, 5, 5)
    expected[0, 3, 3] = 1.0
    torch.testing.assert_close(affine(dot, shear=45.0), expected, atol=1e-5, rtol=0)


def test_a_y_shear_is_the_x_shear_of_the_transposed_image():
    image = torch.rand(2, 7, 7)
    for shear in (-30.0, 12.5, 45.0):
        expected = affine(image.transpose(-1, -2), shear=shear).transpose(-1, -2)
        torch.testing.assert_close(affine(image, shear_y=shear), expected, atol=1e-5, rtol=0)
    dot = torch.zeros(1, 5, 5)
    dot[0, 2, 3] = 1.0  # one pixel right of the centre: a 45-degree y-shear moves it one pixel down
    expected = torch.zeros(1, 5, 5)
    expected[0, 3, 3] = 1.0
    torch.testing.assert_close(affine(dot, shear_y=45.0), expected, atol=1e-5, rtol=0)


def test_random_erasing_zeroes_one_box_of_the_drawn_size_in_every_channel():
    image = torch.rand(2, 20, 20) + 1
    erasing = RandomErasing(p=1.0, scale=(0.02, 0.2), ratio=(1.0, 1.0), generator=seeded())
    for _ in range(20):
        out = erasing(image)
        zero = out[0] == 0
        rows, cols = zero.any(dim=1).nonzero().flatten(), zero.any(dim=0).nonzero().flatten()
        h, w = len(rows), len(cols)
        assert h == w and 3 <= h <= 9  # square; side round(sqrt(area)) with area in [0.02, 0.2] * 400 = [8, 80]
        assert int(zero.sum()) == h * w and torch.equal(out[1] == 0, zero)  # one box, every channel
        assert torch.equal(out[:, ~zero], image[:, ~zero])
    assert torch.equal(RandomErasing(p=0.0)(image), image)
    assert torch.equal(erase(image, (1, 2, 3, 4))[:, 1:4, 2:6], torch.zeros(2, 3, 4))


def test_random_erasing_leaves_the_image_when_no_box_fits():
    image = torch.rand(1, 4, 4)
    assert RandomErasing(scale=(0.9, 0.95)).box(4, 4) is None  # the whole side, never strictly inside
    assert torch.equal(RandomErasing(p=1.0, scale=(0.9, 0.95))(image), image)


def test_neuromorphic_roll_is_a_torch_roll_by_at_most_max_roll():
    frames = torch.rand(3, 2, 12, 12)
    nda = NeuromorphicAugment(max_roll=3, operations=("roll",), generator=seeded())
    seen = set()
    for _ in range(40):
        out = nda(frames)
        shifts = [s for s in itertools.product(range(-6, 7), repeat=2) if torch.equal(out, torch.roll(frames, s, dims=(-2, -1)))]
        assert len(shifts) == 1 and max(map(abs, shifts[0])) <= 3
        seen.add(shifts[0])
    assert len(seen) > 10


def test_neuromorphic_rotation_and_shear_keep_event_counts_as_counts():
    counts = torch.randint(1, 5, (4, 2, 16, 16)).float()
    for operation in ("rotate", "shear"):
        nda = NeuromorphicAugment(operations=(operation,), generator=seeded())
        out = nda(counts)
        assert set(out.unique().tolist()) <= set(counts.unique().tolist()) | {0.0}
        assert not torch.equal(out, counts)
    still = NeuromorphicAugment(max_degrees=0.0, operations=("rotate",), generator=seeded())
    assert torch.equal(still(counts), counts)


def test_neuromorphic_augment_picks_each_operation():
    frames = torch.rand(1, 1, 12, 12) + 1
    nda = NeuromorphicAugment(generator=seeded())
    kinds = set()
    for _ in range(30):
        out = nda(frames)
        # a roll keeps every value and brings in no zeros; rotation and shear bring zeros into the corners
        kinds.add("roll" if torch.equal(out.flatten().sort()[0], frames.flatten().sort()[0]) else "affine")
    assert kinds == {"roll", "affine"}


def test_normalize_subtracts_the_mean_and_divides_by_the_std_per_channel():
    frames = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    out = Normalize([0.1, 0.2, 0.3], [0.5, 2.0, 4.0])(frames)
    for c, (m, s) in enumerate([(0.1, 0.5), (0.2, 2.0), (0.3, 4.0)]):
        torch.testing.assert_close(out[:, c], (frames[:, c] - m) / s)
    with pytest.raises(ValueError, match="3 channels but the input has 2"):
        Normalize([0.1, 0.2, 0.3], [1.0, 1.0, 1.0])(torch.rand(2, 4, 4))


def test_resize_gives_the_size_asked_for_every_frame():
    frames = torch.rand(5, 2, 8, 12)
    assert Resize((4, 6))(frames).shape == (5, 2, 4, 6)
    assert Resize(3)(frames[0]).shape == (2, 3, 3)
    doubled = Resize((16, 24), mode="nearest")(frames)
    torch.testing.assert_close(doubled, frames.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1))
    torch.testing.assert_close(Resize(5)(torch.full((1, 2, 8, 8), 3.0)), torch.full((1, 2, 5, 5), 3.0))


def test_compose_applies_in_order():
    image = torch.rand(1, 4, 4)
    composed = Compose([lambda x: x + 1, lambda x: x * 3])
    torch.testing.assert_close(composed(image), (image + 1) * 3)
    assert "Normalize" in repr(Compose([Normalize([0.0], [1.0])]))


def test_reprs_show_the_parameters():
    assert repr(RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert "max_roll=5" in repr(NeuromorphicAugment()) and "degrees=(-10.0, 10.0)" in repr(RandomAffine(10))


@pytest.mark.parametrize(
    "build",
    [
        lambda: RandomCrop(0),
        lambda: RandomCrop(8, padding=-1),
        lambda: RandomHorizontalFlip(p=1.5),
        lambda: RandomAffine(-5),
        lambda: RandomAffine((10, 5)),
        lambda: RandomAffine(5, translate=(0.5, 2.0)),
        lambda: RandomAffine(5, scale=(0.0, 1.0)),
        lambda: RandomAffine(5, shear=95),
        lambda: RandomAffine(5, mode="bicubic-ish"),
        lambda: Resize(8, mode="linear-ish"),
        lambda: Resize(8, mode="nearest", antialias=True),
        lambda: Normalize([0.5], [0.0]),
        lambda: Normalize([0.5, 0.5], [1.0]),
        lambda: Compose([1, 2]),
        lambda: NeuromorphicAugment(max_roll=-1),
        lambda: NeuromorphicAugment(max_shear=90),
        lambda: NeuromorphicAugment(operations=("cutout",)),
        lambda: NeuromorphicAugment(operations=()),
        lambda: RandomErasing(p=2.0),
        lambda: RandomErasing(scale=(0.3, 0.1)),
        lambda: RandomErasing(ratio=(0.0, 1.0)),
    ],
)
def test_bad_arguments_are_refused(build):
    with pytest.raises(ValueError):
        build()


def test_inputs_without_channel_height_width_or_integer_images_for_resampling_are_refused():
    with pytest.raises(ValueError, match=r"\[\.\.\., C, H, W\]"):
        RandomCrop(2)(torch.rand(4, 4))
    with pytest.raises(ValueError, match="floating-point"):
        RandomAffine(10)(torch.zeros(1, 4, 4, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch.Generator"):
        RandomCrop(2, generator=0)
