"""Image folders through the row cache: cached and uncached batches are the same bytes, a cached run says its
conversions and skips again, the first pass holds a few images rather than the folder, and a run on a cached
folder resumes bit for bit."""
import json
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import torch
from PIL import Image

from multigan import api
from multigan.core import checkpoint as ckpt
from multigan.images.folder import ImageFolderDataset
from multigan.images.paired import PairedFolder
from multigan.images.unpaired import UnpairedFolder
from multigan.recipe import from_dict


def noisy_folder(root, count, size=(40, 30), classes=("a", "b"), seed=0):
    rng = np.random.default_rng(seed)
    for i in range(count):
        path = root / classes[i % len(classes)] / f"{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return root


def index():
    return torch.tensor([5, 0, 3, 3, 11, 7])


def test_image_folder_cached_and_uncached_batches_are_the_same_bytes(tmp_path):
    folder = noisy_folder(tmp_path / "pics", 12)

    def build(**options):
        return ImageFolderDataset(ImageFolderDataset.Config(path=str(folder), resolution=16, **options), tmp_path,
                                  "train")

    memory, first, mapped = build(cache=False), build(), build(decode_workers=2)
    assert isinstance(mapped.images.numpy(), np.ndarray) and memory.fingerprint == mapped.fingerprint
    assert "path, size and mtime" in mapped.info.extra["data_check"]  # the metrics' protocols say it
    assert "hashed again" in build(verify_data=True).info.extra["data_check"]
    for dataset in (first, mapped):
        a, b = memory.gather(index()), dataset.gather(index())
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["label"], b["label"])


def side_by_side(root, count, seed=1):
    rng = np.random.default_rng(seed)
    for split in ("train", "val", "test"):
        for i in range(count):
            (root / split).mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (20, 40, 3), dtype=np.uint8)).save(root / split / f"{i}.png")
    return root


def test_paired_and_unpaired_folders_cached_and_uncached_are_the_same_bytes(tmp_path):
    pairs = side_by_side(tmp_path / "pairs", 12)
    for cache in (False, True, True):
        dataset = PairedFolder(PairedFolder.Config(path=str(pairs), resolution=16, load_size=16, cache=cache),
                               tmp_path, "train")
        batch = dataset.gather(index())
        if not cache:
            reference = batch
        assert all(torch.equal(batch[k], reference[k]) for k in ("source", "target"))
    domains = tmp_path / "domains"
    for side in ("trainA", "trainB"):
        noisy_folder(domains / side, 12, classes=("x",), seed=len(side))
    for cache in (False, True):
        dataset = UnpairedFolder(UnpairedFolder.Config(path=str(domains), resolution=16, cache=cache), tmp_path,
                                 "train")
        torch.manual_seed(0)
        batch = dataset.gather(index())
        if not cache:
            unpaired_reference = batch
        assert all(torch.equal(batch[k], unpaired_reference[k]) for k in ("a", "b"))


def test_a_cached_run_says_its_conversions_and_skipped_files_again(tmp_path, caplog):
    folder = noisy_folder(tmp_path / "pics", 6)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "a" / "grey.png")
    (folder / "b" / "broken.png").write_bytes(b"\x89PNG\r\n")
    config = ImageFolderDataset.Config(path=str(folder), resolution=8, skip_bad=True)
    for _ in range(2):  # built, then mapped
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            dataset = ImageFolderDataset(config, tmp_path, "train")
        said = " ".join(r.getMessage() for r in caplog.records)
        assert "converted 1 image(s)" in said and "1 L->RGB" in said and "skipped 1 unreadable" in said
        assert len(dataset) == 7


PEAK = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import multigan.images
    from multigan.images.folder import ImageFolderDataset
    folder, cache = Path(sys.argv[1]), sys.argv[2] == "cache"
    def rss_kb(key):
        return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key))
    before = rss_kb("VmRSS:")  # now, not the peak: importing torch peaks above what it keeps
    config = ImageFolderDataset.Config(path=str(folder), resolution=16, cache=cache, decode_workers=1)
    dataset = ImageFolderDataset(config, folder.parent, "train")
    after = rss_kb("VmHWM:")
    print(json.dumps({"growth_mb": (after - before) / 1024, "n": len(dataset)}))
""")


def test_the_first_pass_holds_a_few_images_not_the_folder(tmp_path, monkeypatch):
    """100 photos of 1200 x 1000 px decode to 360 MB; the cache holds 77 KB. Decoding them all before resizing (the
    old way) grew the peak by 300+ MB; the cached first pass may grow by a few images and the libraries' working
    memory (generous margin: 120 MB, no timing)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    (folder / "x").mkdir(parents=True)
    gradient = np.linspace(0, 255, 1200 * 1000 * 3).reshape(1200, 1000, 3)
    for i in range(100):
        Image.fromarray((gradient * rng.random()).astype(np.uint8)).save(folder / "x" / f"{i}.jpg", quality=80)
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", PEAK, str(folder), "cache"], capture_output=True, text=True,
                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    assert measured["n"] == 100 and measured["growth_mb"] < 120, measured


def folder_recipe(folder, steps):
    return from_dict({
        "model": {"name": "dcgan", "generator_width": 8, "discriminator_width": 8, "latent_dim": 8},
        "data": {"name": "image_folder", "path": str(folder), "resolution": 28, "channels": 1},
        "train": {"steps": steps, "batch_size": 8, "log_every": 2, "sample_every": 0, "checkpoint_every": 4},
    })


def test_a_run_on_a_cached_folder_resumes_bit_for_bit(tmp_path):
    folder = noisy_folder(tmp_path / "pics", 24)
    straight = api.train(folder_recipe(folder, 8), out=tmp_path / "straight", progress=False)
    api.train(folder_recipe(folder, 4), out=tmp_path / "resumed", progress=False)  # maps the cache built above
    api.train(folder_recipe(folder, 8), resume=tmp_path / "resumed", progress=False)
    a = ckpt.load_networks(ckpt.latest_checkpoint(straight))
    b = ckpt.load_networks(ckpt.latest_checkpoint(tmp_path / "resumed"))
    assert all(torch.equal(a[k][t], b[k][t]) for k in a for t in a[k])
