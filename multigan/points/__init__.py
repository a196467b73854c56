"""The 2-D points plug-in: procedural mixtures (ring, grid), spiral, moons and a user's CSV of points; the `toygan`
MLP GAN of the mode-collapse experiments (PacGAN's networks); the points modality (scatter previews with D's decision,
CSV export); and the mode-collapse measures (modes covered, high quality, reverse KL, GAN Lab's grid KL / JS).
Importing it registers everything it provides."""
from multigan.points import csv_points, datasets, metrics, modality, toygan  # noqa: F401
