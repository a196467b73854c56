"""The images plug-in: datasets (IDX, ImageFolder, procedural digits, paired and unpaired folders), the models
(DCGAN, the MLP vanilla GAN, StyleGAN2, PGGAN, pix2pix, CycleGAN, the template), DiffAugment's and ADA's
augmentation policies, the image modality, how images reach the metrics' feature extractors (the image feature
input, domain classifier and FID Inception) and the translation metrics. Importing it registers everything it
provides."""
from multigan.images import (  # noqa: F401
    ada,
    cyclegan,
    datasets,
    dcgan,
    diffaugment,
    features,
    folder,
    glyphs,
    inception,
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
