"""Weight initialisations that the papers' released codes apply once a network is built."""

from __future__ import annotations

from torch import nn

from spikedyn.neurons.parameters import check_choice

#: "kaiming_fan_out": Kaiming-normal conv weights (fan_out, ReLU gain), as torchvision's ResNet
#: and the IMP code; "default": PyTorch's own initialisation of every layer, left untouched.
INITS = ("kaiming_fan_out", "default")


def kaiming_fan_out_convs(model: nn.Module) -> None:
    """Draw every Conv2d weight from N(0, 2 / fan_out); biases, BN and Linear keep PyTorch's defaults."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")


def initialise(model: nn.Module, init: str) -> None:
    """Apply the initialisation named by ``init`` (one of :data:`INITS`) to ``model``."""
    check_choice("init", init, INITS)
    if init == "kaiming_fan_out":
        kaiming_fan_out_convs(model)
