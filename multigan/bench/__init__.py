"""`multigan bench`: benchmark GAN families across modalities.

    suite.py          the suite file -> typed Suite; every problem listed at once
    plan.py           Suite -> one resolved recipe per run and seed, under the common budget
    runner.py         trains the planned runs into DIR/runs/ (resumable; a crash is recorded, the rest go on)
    worker.py         one run in its own process: api.train, cost, sweep, record
    sweeps.py         quality/diversity sweeps over temperature (text) or truncation (images)
    stability.py      seed spread, collapse rule, diversity ratio, cost record
    records.py        the typed data: a run's request and record (bench_run.json), report.json as a `Report`
    report.py         report.json (records + summaries over seeds) and the report as a document
    tables.py         the report's tables, each with its protocol card
    plots.py          the report's figures (matplotlib)
    parts.py          the document's parts: Table, Figure, Gallery
    report_render.py  report.md and the self-contained report.html
"""
