"""The images plug-in: datasets (IDX, ImageFolder, procedural digits, paired and unpaired folders), the models
(DCGAN, the MLP vanilla GAN, pix2pix, CycleGAN, the template) and the image modality. Importing it registers
everything it provides."""
from multigan.images import (  # noqa: F401
    ada,
    cyclegan,
    datasets,
    dcgan,
    diffaugment,
    folder,
    glyphs,
    mlp,
    modality,
    paired,
    pggan,
    pix2pix,
    stylegan2,
    template,
    translation_metrics,
    unpaired,
)
