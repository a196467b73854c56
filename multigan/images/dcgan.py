"""DCGAN (Radford et al. 2016), optionally class-conditional: the convolutional networks of `blocks.py` on the
game of core/game.py (loss, regularisers and D steps chosen by the recipe)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from multigan.core.phases import DataInfo
from multigan.images.blocks import RESOLUTIONS, Discriminator, Generator
from multigan.core.game import GameConfig, ModelConfigError
from multigan.images.gan import ImageGAN
from multigan.registry import MODELS

__all__ = ["DCGAN", "DCGANConfig", "ModelConfigError"]


@dataclass
class DCGANConfig(GameConfig):
    generator_width: int = 64  # channels of the generator's last hidden layer (ngf); doubles per layer inward
    discriminator_width: int = 64  # channels of the discriminator's first layer (ndf)
    condition: str = "projection"  # how D sees the label: projection | concat
    discriminator_norm: str = "batch"  # batch | instance | layer | none

    # the names pytorch/examples' dcgan uses, accepted in recipes and --set
    ALIASES: ClassVar[dict[str, str]] = {"ngf": "generator_width", "ndf": "discriminator_width", "nz": "latent_dim"}


@MODELS.register("dcgan")
class DCGAN(ImageGAN):
    Config = DCGANConfig

    def __init__(self, config: DCGANConfig, info: DataInfo):
        _, height, width = info.shape
        if height != width:
            raise ModelConfigError(f"dcgan needs square images, the data gives {height}x{width}")
        if height not in RESOLUTIONS:
            raise ModelConfigError(f"dcgan builds {', '.join(map(str, RESOLUTIONS))} px images, the data gives "
                                   f"{height} px; set data.resolution to one of them")
        super().__init__(config, info)

    def gradient_penalty_blocker(self) -> str:
        if self.config.discriminator_norm != "batch":
            return ""
        return ("model.discriminator_norm: layer, instance or none "
                "(BatchNorm mixes examples, which breaks the per-example gradient penalty)")

    def build_networks(self, info: DataInfo, num_classes: int) -> tuple[nn.Module, nn.Module]:
        c = self.config
        channels, resolution, _ = info.shape
        generator = Generator(c.latent_dim, c.generator_width, channels, resolution, num_classes)
        discriminator = Discriminator(  # PacGAN: m x the channels, one pack of m images per input
            c.discriminator_width, self.packed_channels(channels), resolution, num_classes, c.discriminator_norm,
            c.condition,
        )
        return generator, discriminator
