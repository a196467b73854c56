"""The images plug-in: datasets (IDX, ImageFolder, procedural digits) and the image modality. Importing it
registers everything it provides."""
from multigan.images import (  # noqa: F401
    datasets,  # noqa: F401
    dcgan,
    folder,  # noqa: F401
    glyphs,  # noqa: F401
    modality,  # noqa: F401
    template,
)
