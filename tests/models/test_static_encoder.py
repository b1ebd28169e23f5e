"""The static-image encoder changes the cost, not the function, of a PLIF net."""

import torch

from spikedyn.models import build_model


def _models():
    built = []
    for encoder in (False, True):
        torch.manual_seed(0)
        built.append(build_model("plifnet_mnist", static_encoder=encoder, time_steps=4, dropout=0.0).double())
    return built


def test_the_encoder_gives_the_outputs_and_gradients_of_repeating_the_image():
    plain, encoded = _models()
    image = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    y_plain = plain(image.unsqueeze(0).repeat(4, 1, 1, 1, 1))
    y_encoded = encoded(image)
    torch.testing.assert_close(y_encoded, y_plain)
    y_plain.square().sum().backward()
    y_encoded.square().sum().backward()
    for a, b in zip(plain.parameters(), encoded.parameters()):
        torch.testing.assert_close(a.grad, b.grad)


def test_the_encoded_model_also_takes_repeated_sequences():
    _, encoded = _models()
    image = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    torch.testing.assert_close(encoded(image.unsqueeze(0).repeat(4, 1, 1, 1, 1)), encoded(image))
