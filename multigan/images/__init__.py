"""The images plug-in: datasets (IDX, ImageFolder, procedural digits) and the image modality. Importing it
registers everything it provides."""
from multigan.images import datasets  # noqa: F401
from multigan.images import folder  # noqa: F401
from multigan.images import glyphs  # noqa: F401
from multigan.images import modality  # noqa: F401
from multigan.images import dcgan, template  # noqa: F401
