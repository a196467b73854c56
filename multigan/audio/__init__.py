"""The audio plug-in: audio folders and FSDD, WaveGAN with phase shuffle, SpecGAN (spectrograms + Griffin-Lim),
the audio modality (WAV + mel spectrograms), VGGish and the spoken-digit classifier for FAD / IS. Importing it
registers everything it provides."""
from multigan.audio import classifier, datasets, metrics, modality, specgan, vggish, wavegan  # noqa: F401
