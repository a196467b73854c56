"""The images plug-in: datasets (IDX, ImageFolder, procedural digits, paired and unpaired folders), the models
(DCGAN, the MLP vanilla GAN, pix2pix, CycleGAN, the template), the image modality, how images reach the metrics'
feature extractors (the image feature input, domain classifier and FID Inception) and the translation metrics.
Importing it registers everything it provides."""
from multigan.images import (  # noqa: F401
    cyclegan,
    datasets,
    dcgan,
    features,
    folder,
    glyphs,
    inception,
    mlp,
    modality,
    paired,
    pix2pix,
    template,
    translation_metrics,
    unpaired,
)
