"""`multigan` command line: thin — parses arguments and calls `multigan.api`, or the applications above it
(`multigan.augment`, `multigan.bench`, `multigan.watch`, `multigan.lab`).

User mistakes end as one line on stderr and exit status 1; Ctrl-C says how to resume.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import sys
from pathlib import Path

from multigan.cli.parser import build_parser
from multigan.errors import UserError  # no torch: `--help` stays fast

def rank() -> int:
    """This process's rank under torchrun (0 otherwise), without importing torch."""
    return int(os.environ.get("RANK", "0"))


def cmd_train(args: argparse.Namespace) -> None:
    from multigan import api
    from multigan.recipe import dump_yaml, load_recipe, non_defaults, resolve_recipe

    if args.recipe is None and args.resume is None:
        raise UserError("multigan train needs a RECIPE (or --resume RUN); see `multigan recipes`")
    recipe = args.recipe or str(Path(args.resume) / "config.yaml")
    main_process = rank() == 0  # under torchrun, rank 0 alone talks
    try:
        path, origin = resolve_recipe(recipe)
        config = load_recipe(path, args.overrides + (["data.verify_data=true"] if args.verify_data else []))
    except UserError as err:
        err.same_on_every_rank = True  # every rank reads the same recipe
        raise
    if main_process:
        print(f"recipe: {path.resolve()} ({origin})", file=sys.stderr)  # ./recipes overrides the packaged ones
    if args.dry_run:
        if main_process:
            print(dump_yaml(config), end="")
        return
    if main_process:
        changed = non_defaults(config)
        print(f"{config.source}: {config.model_name} on {config.data_name}; non-default values:", file=sys.stderr)
        for key, value in changed.items():
            print(f"  {key} = {value}", file=sys.stderr)
    run_dir = api.train(config, args.data_root, args.out, args.resume, args.overwrite, progress=not args.quiet)
    if main_process:
        print(f"run finished: {run_dir} (samples in {run_dir / 'samples'}, checkpoints in {run_dir / 'checkpoints'})")


def cmd_sample(args: argparse.Namespace) -> None:
    from multigan import api
    from multigan.export import ExportRequest

    if args.input is not None:
        if args.grid:
            raise UserError("--grid has no meaning with --input: a translation writes one PNG per input and "
                            "comparison.png")
        summary = api.translate(args.run, args.input, args.out, args.direction, which=args.checkpoint)
        print(f"translated {summary['inputs']} image(s) ({summary['read_as']}, {summary['direction']}) into "
              f"{args.out}; side by side in {Path(args.out) / 'comparison.png'}")
        return
    if args.direction is not None:
        raise UserError("--direction only applies with --input DIR (translating a folder)")
    # every field of the request is the dest of the flag that sets it (--per-class -> per_class)
    request = ExportRequest(**{field.name: vars(args)[field.name] for field in dataclasses.fields(ExportRequest)})
    try:
        path = api.sample(args.run, args.out, request, args.data_root, progress=not args.quiet)
    except KeyboardInterrupt:
        print("multigan: interrupted; rerun the same command with --resume to continue the export", file=sys.stderr)
        raise SystemExit(130) from None
    if args.grid:
        print(f"wrote a preview of {args.n or 64} samples to {path}")
        return
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    dropped = f", {sum(manifest['dropped'].values())} dropped by --min-confidence" if manifest["dropped"] else ""
    print(f"wrote {manifest['n']} samples to {path}{dropped} (provenance in {path / 'manifest.json'})")


def cmd_eval(args: argparse.Namespace) -> None:
    from multigan import api
    from multigan.metrics.report import format_table

    named = ("features", "inception_weights", "vggish_weights")  # flags named after the eval: field they replace
    overrides = {key: vars(args)[key] for key in named if vars(args)[key]}
    if args.metrics:
        overrides["metrics"] = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if args.n is not None:
        overrides["n_samples"] = args.n
    record = api.evaluate(args.run, overrides, args.data_root, args.checkpoint, args.out)
    print(format_table(record["metrics"]))
    print(f"step {record['step']}; values and protocols written to {record['path']}")


def cmd_recipes(args: argparse.Namespace) -> None:
    from multigan.recipe import list_recipes, recipe_description, recipe_folders

    for folder, origin in recipe_folders():
        print(f"from {folder.resolve()} ({origin})", file=sys.stderr)
    sections = [("", "train RECIPE"), ("augment", "augment-eval STUDY"), ("bench", "bench SUITE --out DIR")]
    found = [(usage, list_recipes(kind)) for kind, usage in sections]
    width = max((len(p.stem) for _, paths in found for p in paths), default=0)
    for index, (usage, paths) in enumerate(found):
        if paths:
            print(f"{'' if index == 0 else chr(10)}multigan {usage}:")
        for path in paths:
            print(f"  {path.stem:<{width}}  {recipe_description(path)}")


def cmd_augment_eval(args: argparse.Namespace) -> None:
    from multigan.augment.commands import augment_eval

    try:
        summary = augment_eval(args.study, args.out, args.data_root, progress=not args.quiet)
    except KeyboardInterrupt:
        print("multigan: interrupted; rerun the same command to resume the study (finished cells are kept)",
              file=sys.stderr)
        raise SystemExit(130) from None
    print(Path(summary["paths"]["markdown"]).read_text(encoding="utf-8"), end="")
    print(f"table: {summary['paths']['markdown']}, {summary['paths']['json']}; plot: {summary['paths']['plot']}")


def cmd_bench(args: argparse.Namespace) -> None:
    from multigan.bench.commands import bench, bench_report

    if args.report_only:
        if args.suite or args.out:
            raise UserError("--report-only DIR rebuilds an existing report; give no SUITE and no --out with it")
        print(f"report rebuilt from {Path(args.report_only) / 'report.json'}: {bench_report(args.report_only)}")
        return
    if not args.suite or not args.out:
        raise UserError("multigan bench needs a SUITE and --out DIR (or --report-only DIR); suites are in "
                        "recipes/bench/")
    try:
        result = bench(args.suite, args.out, args.data_root, inline=args.inline, seeds=args.seeds)
    except KeyboardInterrupt:
        print("multigan: interrupted; rerun the same command to continue (finished runs are kept)", file=sys.stderr)
        raise SystemExit(130) from None
    counts = {status: list(result["outcome"].values()).count(status) for status in ("done", "skipped", "failed")}
    print(f"bench finished: {counts['done']} trained, {counts['skipped']} already complete, {counts['failed']} "
          f"failed; report: {result['report'] / 'report.html'} (and report.md, report.json)")


def cmd_cache(args: argparse.Namespace) -> None:
    from multigan.core.cache_index import KINDS, cache_entries, clear_caches
    from multigan.core.data import cache_dir
    from multigan.core.row_cache import size_text

    root = cache_dir()
    if args.action == "clear":
        removed, freed = clear_caches(root, args.kinds)
        print(f"removed {removed} cache entries ({size_text(freed)}) from {root}")
        return
    if args.kinds:
        raise UserError("multigan cache list takes no KIND; `multigan cache clear KIND` clears one kind")
    entries = cache_entries(root)
    print(f"cache: {root} ({size_text(sum(e.bytes for e in entries))} in {len(entries)} entries; "
          "$MULTIGAN_CACHE moves it)")
    for kind in sorted({e.kind for e in entries}):
        mine = [e for e in entries if e.kind == kind]
        print(f"\n{kind}: {KINDS.get(kind, '')} ({size_text(sum(e.bytes for e in mine))})")
        for entry in mine:
            print(f"  {entry.path.name}  {size_text(entry.bytes)}  {entry.detail}".rstrip())


def cmd_watch(args: argparse.Namespace) -> None:
    from multigan.watch.commands import watch

    server, runs, note = watch(args.path, args.host, args.port)
    if note:
        print(f"multigan: {note}", file=sys.stderr)
    print(f"watching {len(runs)} run(s) under {args.path}: {server.url}  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("multigan: watch stopped", file=sys.stderr)
    finally:
        server.stop()


def cmd_lab(args: argparse.Namespace) -> None:
    from multigan.lab.commands import lab

    session = lab(args.recipe, args.overrides, args.host, args.port, args.out, args.overwrite, args.data_root)
    if session.note:
        print(f"multigan: {session.note}", file=sys.stderr)
    kept = f"; the run is kept in {session.run_dir}" if args.out else ""
    print(f"GAN Lab on {args.recipe} ({session.config.model_name} on {session.config.data_name}): "
          f"{session.server.url}  (Ctrl-C stops{kept})", flush=True)
    try:
        session.server.serve_forever()
    except KeyboardInterrupt:
        print("multigan: lab stopped", file=sys.stderr)
    finally:
        session.close()


POSITIONALS = {"command", "recipe", "run", "study", "suite", "action", "kinds", "path"}  # the arguments that are no --flag


def in_flag_terms(message: str, args: argparse.Namespace) -> str:
    """The library quotes a setting as `per_class`; the user set it as --per-class (other quoted names stay)."""
    options = set(vars(args)) - POSITIONALS
    return re.sub(r"`([a-z_]+)`", lambda m: "--" + m[1].replace("_", "-") if m[1] in options else m[0], message)


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval, "recipes": cmd_recipes,
            "augment-eval": cmd_augment_eval, "bench": cmd_bench, "cache": cmd_cache, "watch": cmd_watch,
            "lab": cmd_lab}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # what the library says once (conversions, skipped files, a classifier being trained) reaches the terminal
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("multigan: %(message)s"))
    package_log = logging.getLogger("multigan")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    try:
        COMMANDS[args.command](args)
    except UserError as err:
        if rank() == 0 or not err.same_on_every_rank:  # torchrun: one line, not one per rank
            print(f"multigan: error: {in_flag_terms(str(err), args)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("multigan: interrupted; `multigan train --resume RUN` continues from the last checkpoint", file=sys.stderr)
        return 130
    finally:
        package_log.removeHandler(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
