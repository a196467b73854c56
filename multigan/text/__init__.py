"""The text plug-in: corpora and tokenizers, the SeqGAN oracle, LSTM / Transformer / relational-memory generators,
SeqGAN and the Gumbel-softmax GAN, text metrics and the text modality. Importing it registers everything it
provides."""
from multigan.text import corpus, gumbel, metrics, modality, oracle, relational, seqgan, sentence_encoder  # noqa: F401
