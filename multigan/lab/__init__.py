"""`multigan lab [RECIPE]`: GAN Lab (Kahng et al. 2019, poloclub/ganlab) on this toolkit's game — a local page that
trains a 2-D points recipe step by step and shows the game: real and generated points, D's decision as a heatmap,
G's manifold, the arrows along which G's next update moves each point, the losses, and play / pause / step D /
step G / step / speed / reset.

    probes.py    one frame from the model, reading no random stream and changing no weight or buffer
    session.py   the Trainer and the one thread that steps it; commands in, the latest frame out
    server.py    watch's page server with the lab's routes: the page, an event stream of frames, POST /command
    commands.py  the entry point the CLI calls: the recipe checked, the session and the server opened
    page/        index.html, lab.js, lab.css (and watch's plot.js): no CDN, works offline

An app above the API: the Trainer comes from `api.prepare_training` and is driven by its public `start`, `step`,
`run_phase` and `finish`; nothing below knows the lab. Playing is the loop `multigan train` runs (the same
weights, data order, random stream and checkpoints at every step); a lone D or G update is an extra update
outside the step count, which a normal run never makes.
"""
