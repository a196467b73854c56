"""The `multigan` command line's arguments: every command, flag and example (no torch: `--help` stays fast)."""
from __future__ import annotations

import argparse


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
  multigan watch runs/                                    follow every run under runs/ in the browser
  multigan lab toygan_grid                                GAN Lab: train a 2-D points recipe step by step
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
    train.add_argument("--verify-data", action="store_true", help="folder datasets: hash every file against the "
                       "decoded cache, whose key sees each file's path, size and time only (data.verify_data)")
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
    bench.add_argument("--seeds", type=lambda text: [int(v) for v in text.split(",")], metavar="S,S",
                       help="train only these of the suite's seeds (a partial bench, e.g. one seed on a CPU budget)")
    cache = commands.add_parser("cache", help="list or clear the cache: decoded folders, classifiers, statistics")
    cache.add_argument("action", nargs="?", choices=("list", "clear"), default="list")
    cache.add_argument("kinds", nargs="*", metavar="KIND", help="clear only these: rows, classifiers, "
                       "reference_stats, text (default: all)")
    watch = commands.add_parser("watch", help="a local page that follows runs while they train: losses, "
                                "metrics with their floors, previews, step and ETA")
    watch.add_argument("path", nargs="?", default="runs", metavar="PATH", help="a run folder, or a folder of runs "
                       "such as runs/ or a bench's folder (default: runs)")
    watch.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine "
                       "only; the page shows every file under PATH to whoever reaches it)")
    watch.add_argument("--port", type=int, help="port to serve on; if it is taken, an error (default: 8765, or a "
                       "free port when 8765 is taken; 0: any free port)")
    lab = commands.add_parser("lab", help="GAN Lab: a local page that trains a 2-D points recipe step by step and "
                              "shows the game (D's heatmap, G's manifold and gradients)")
    lab.add_argument("recipe", nargs="?", default="toygan_ring", help="a 2-D points recipe (default: toygan_ring; "
                     "toygan_grid, pacgan2_grid, or your own on points_csv)")
    lab.add_argument("--set", nargs="+", action="extend", default=[], metavar="SECTION.KEY=VALUE", dest="overrides",
                     help="override recipe values, e.g. model.loss=hinge")
    lab.add_argument("--out", metavar="DIR", help="keep the session as a run folder (checkpoint on exit) that watch "
                     "and train --resume open (default: a temporary folder, deleted on exit)")
    lab.add_argument("--overwrite", action="store_true", help="start an existing --out folder over")
    lab.add_argument("--data-root", metavar="DIR", help="datasets root (default: $MULTIGAN_DATA, else ./data)")
    lab.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine only)")
    lab.add_argument("--port", type=int, help="port to serve on; if it is taken, an error (default: 8766, or a free "
                     "port when 8766 is taken; 0: any free port)")
    return parser
