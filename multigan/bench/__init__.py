"""`multigan bench`: benchmark GAN families across modalities.

    suite.py          the suite file -> typed Suite, every problem listed at once, planned into runs x seeds
    runner.py         trains the planned runs into DIR/runs/ (resumable; a crash is recorded, the rest go on)
    worker.py         one run in its own process: api.train, cost, sweep, record
    sweeps.py         quality/diversity sweeps over temperature (text) or truncation (images)
    stability.py      seed spread, collapse rule, diversity ratio, cost record
    report.py         report.json and the report's tables with their protocol cards
    plots.py          the report's figures (matplotlib)
    report_render.py  report.md and the self-contained report.html
"""
