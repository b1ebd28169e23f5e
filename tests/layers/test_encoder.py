import pytest
import torch
from torch import nn

from spikedyn.layers import StaticImageEncoder, TimeDistributed


def _pair(seed: int = 0):
    torch.manual_seed(seed)
    layers = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4))
    copy = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4))
    copy.load_state_dict(layers.state_dict())
    layers.double(), copy.double()
    return StaticImageEncoder(layers, time_steps=5), TimeDistributed(copy)


def test_encoder_equals_running_the_layers_on_the_repeated_image_forward_and_backward():
    encoder, repeated = _pair()
    image = torch.randn(3, 1, 6, 6, dtype=torch.float64)
    weights = torch.randn(5, 3, 4, 6, 6, dtype=torch.float64)
    y_once = encoder(image)
    y_repeat = repeated(image.unsqueeze(0).repeat(5, 1, 1, 1, 1))
    torch.testing.assert_close(y_once, y_repeat)
    (y_once * weights).sum().backward()
    (y_repeat * weights).sum().backward()
    for a, b in zip(encoder.parameters(), repeated.parameters()):
        torch.testing.assert_close(a.grad, b.grad)
    torch.testing.assert_close(encoder.layers[1].running_mean, repeated.layer[1].running_mean)


def test_a_sequence_of_equal_steps_is_encoded_once():
    encoder, repeated = _pair()
    sequence = torch.randn(2, 1, 6, 6, dtype=torch.float64).unsqueeze(0).repeat(4, 1, 1, 1, 1)
    torch.testing.assert_close(encoder(sequence), repeated(sequence))


def test_frames_that_change_over_time_are_refused():
    encoder, _ = _pair()
    with pytest.raises(ValueError, match="same image"):
        encoder(torch.randn(4, 2, 1, 6, 6))


def test_images_need_time_steps_and_other_ranks_are_refused():
    encoder = StaticImageEncoder(nn.Identity())
    with pytest.raises(ValueError, match="time_steps"):
        encoder(torch.randn(2, 1, 6, 6))
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        encoder(torch.randn(2, 6, 6))
