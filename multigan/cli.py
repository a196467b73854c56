"""`multigan` command line: thin — parses arguments and calls `multigan.api`, or the applications above it
(`multigan.augment`, `multigan.bench`).

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

from multigan.errors import UserError  # no torch: `--help` stays fast

EPILOG = """examples:
  multigan recipes                                        list the recipes
  multigan train dcgan_digits                             train on the built-in digits (no files needed)
  multigan train recipes/dcgan_fashion.yaml --set train.steps=200 model.generator_width=32
  multigan train --resume runs/dcgan_fashion              continue a run from its last checkpoint
  torchrun --nproc_per_node 4 -m multigan train dcgan_fashion   data-parallel: train.batch_size split in 4
  multigan sample runs/dcgan_fashion --n 1000 --out synthetic/   one PNG per sample + manifest.json
  multigan sample runs/dcgan_fashion --n 64 --out grid.png --grid
  multigan sample runs/wavegan_digits --n 500 --out wavs/         one WAV per sample + manifest.csv
  multigan sample runs/pix2pix_facades --input my_label_maps/ --out photos/     translate a folder
  multigan sample runs/cyclegan_summer2winter --input photos/ --out winter/ --direction AtoB
  multigan augment-eval fashion_dcgan_cond                does synthetic data help a classifier? (recipes/augment/)
  multigan bench text_vs_image --out bench/text_vs_image   benchmark GAN families, write report.html
"""

SAMPLE_EPILOG = """examples:
  multigan sample runs/dcgan_fashion_cond --per-class 500 --out aug/          aug/<class>/<index>.png + manifest.json
  multigan sample runs/dcgan_fashion_cond --per-class 500 --classes Bag,Coat --truncation 0.8 --out aug/
  multigan sample runs/dcgan_fashion_cond --n 6000 --min-confidence 0.9 --out aug/   classifier-filtered
  multigan sample runs/wavegan_digits_cond --per-class 100 --out wavs/        WAVs + manifest.csv (path,label)
  multigan sample runs/seqgan_coco --n 1000 --temperature 0.8 --format jsonl --out text/
  multigan sample runs/dcgan_fashion_cond --per-class 500 --out aug/ --resume   continue an interrupted export
"""


BENCH_EPILOG = """examples:
  multigan bench text_vs_image --out bench/text_vs_image     train, evaluate, write the report (resumes when rerun)
  multigan bench recipes/bench/my_suite.yaml --out bench/mine
  multigan bench --report-only bench/text_vs_image            rebuild report.md/html from report.json
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="multigan",
        description="Train GANs on images, text and audio from YAML recipes; sample and evaluate them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a recipe (or resume a run)", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("recipe", nargs="?", help="recipe file or name in recipes/ (optional with --resume)")
    train.add_argument("--set", nargs="+", action="extend", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                       help="override recipe values, e.g. train.steps=200 model.loss=hinge")
    train.add_argument("--resume", metavar="RUN", help="continue RUN from its latest checkpoint")
    train.add_argument("--out", metavar="DIR", help="run folder (default: <out.root>/<out.name>, i.e. runs/<recipe>)")
    train.add_argument("--overwrite", action="store_true", help="delete an existing run folder first")
    train.add_argument("--data-root", metavar="DIR", help="datasets root (default: $MULTIGAN_DATA, else ./data)")
    train.add_argument("--dry-run", action="store_true", help="print the resolved recipe and exit")
    train.add_argument("--quiet", action="store_true", help="no progress bar or messages (metrics.jsonl and TensorBoard are still written)")

    sample = commands.add_parser("sample", help="generate samples from a trained run, or export a labelled dataset",
                                 epilog=SAMPLE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sample.add_argument("run", help="run folder (or one of its checkpoint folders)")
    sample.add_argument("--out", required=True, help="output folder (or file with --grid)")
    count = sample.add_mutually_exclusive_group()
    count.add_argument("--n", type=int, help="samples in total, split evenly over the classes (default 64)")
    count.add_argument("--per-class", type=int, metavar="K",
                       help="exactly K samples of each class (conditional models)")
    sample.add_argument("--classes", metavar="A,B", help="only these classes, by name or index (conditional models)")
    sample.add_argument("--seed", type=int, default=0, help="same seed and settings, same files (default 0)")
    sample.add_argument("--ema", action=argparse.BooleanOptionalAction, default=None,
                        help="sample with the EMA weights (default: where the checkpoint has them)")
    sample.add_argument("--truncation", type=float, metavar="T", help="images: redraw latent values with |z| > T")
    sample.add_argument("--temperature", type=float, metavar="T", help="text: sample from softmax(logits / T)")
    sample.add_argument("--psi", type=float, metavar="P", help="stylegan2: truncation of w towards its average")
    sample.add_argument("--format", choices=("png", "wav", "txt", "jsonl"),
                        help="text: txt (one sentence per line, default) or jsonl ({text, label} per line)")
    sample.add_argument("--checkpoint", default="latest", help="latest (default), best, or step-N")
    sample.add_argument("--batch-size", type=int, help="samples generated at once (default: recipe's eval.batch_size)")
    sample.add_argument("--min-confidence", type=float, metavar="P", help="keep only samples the domain classifier "
                        "gives their class with probability >= P (needs the run's dataset; see --data-root)")
    sample.add_argument("--max-generated", type=int, metavar="M", help="with --min-confidence: give up after M "
                        "generated samples (default 20x the requested count)")
    sample.add_argument("--data-root", metavar="DIR", help="datasets root, for --min-confidence's classifier")
    existing = sample.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    existing.add_argument("--resume", action="store_true", help="continue an interrupted export (same settings)")
    sample.add_argument("--grid", action="store_true", help="write one preview grid/file instead of one file each")
    sample.add_argument("--quiet", action="store_true", help="no progress bar")
    sample.add_argument("--input", metavar="DIR", help="translation runs: translate every image in DIR into --out")
    sample.add_argument("--direction", choices=("AtoB", "BtoA"), help="with --input, for runs that translate both "
                        "ways (cyclegan); default AtoB")

    evaluate = commands.add_parser("eval", help="score a run with its metrics (FID, FAD, KID, IS, PRDC, BLEU ...)")
    evaluate.add_argument("run", help="run folder (or one of its checkpoint folders)")
    evaluate.add_argument("--metrics", help="comma-separated, e.g. fid,kid,is,prdc (default: the recipe's eval.metrics)")
    evaluate.add_argument("--n", type=int, help="generated samples (default: the recipe's eval.n_samples)")
    evaluate.add_argument("--features", help="feature extractor: classifier (offline) | inception-fid | vggish")
    evaluate.add_argument("--inception-weights", metavar="PATH", help="pt_inception-2015-12-05-6726825d.pth")
    evaluate.add_argument("--vggish-weights", metavar="PATH", help="vggish-10086976.pth (torchvggish), for fad")
    evaluate.add_argument("--checkpoint", default="latest", help="latest (default), best, or a step-NNNNNNN folder")
    evaluate.add_argument("--data-root", metavar="DIR", help="datasets root (default: $MULTIGAN_DATA, else ./data)")
    evaluate.add_argument("--out", metavar="FILE", help="where to write the JSON (default: RUN/eval.json)")

    commands.add_parser("recipes", help="list the recipes with one-line descriptions")

    augment = commands.add_parser("augment-eval", help="downstream study: a classifier trained on real, real + "
                                  "synthetic and synthetic-only data, at several label budgets")
    augment.add_argument("study", help="study file, or a name in recipes/augment/ (e.g. fashion_dcgan_cond)")
    augment.add_argument("--out", metavar="DIR", help="study folder (default: runs/augment/<study>); rerun to resume")
    augment.add_argument("--data-root", metavar="DIR", help="datasets root (default: $MULTIGAN_DATA, else ./data)")
    augment.add_argument("--quiet", action="store_true", help="no progress bars")
    bench = commands.add_parser("bench", help="benchmark GAN families across modalities: a suite -> a report",
                                epilog=BENCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_argument("suite", nargs="?", help="suite file or name in recipes/bench/ (e.g. text_vs_image)")
    bench.add_argument("--out", metavar="DIR", help="bench folder: runs/, report.md, report.html, report.json")
    bench.add_argument("--report-only", metavar="DIR", help="rebuild DIR's report.md and report.html from its "
                       "report.json; trains nothing")
    bench.add_argument("--data-root", metavar="DIR", help="datasets root (default: $MULTIGAN_DATA, else ./data)")
    bench.add_argument("--inline", action="store_true", help="train the runs in this process rather than one "
                       "process each (faster start; peak memory is then the whole bench's)")
    return parser


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
        config = load_recipe(path, args.overrides)
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
        result = bench(args.suite, args.out, args.data_root, inline=args.inline)
    except KeyboardInterrupt:
        print("multigan: interrupted; rerun the same command to continue (finished runs are kept)", file=sys.stderr)
        raise SystemExit(130) from None
    counts = {status: list(result["outcome"].values()).count(status) for status in ("done", "skipped", "failed")}
    print(f"bench finished: {counts['done']} trained, {counts['skipped']} already complete, {counts['failed']} "
          f"failed; report: {result['report'] / 'report.html'} (and report.md, report.json)")


POSITIONALS = {"command", "recipe", "run", "study", "suite"}  # the arguments that are no --flag


def in_flag_terms(message: str, args: argparse.Namespace) -> str:
    """The library quotes a setting as `per_class`; the user set it as --per-class (other quoted names stay)."""
    options = set(vars(args)) - POSITIONALS
    return re.sub(r"`([a-z_]+)`", lambda m: "--" + m[1].replace("_", "-") if m[1] in options else m[0], message)


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval, "recipes": cmd_recipes,
            "augment-eval": cmd_augment_eval, "bench": cmd_bench}


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
