"""Memory a --batch-size implies, estimated before it is allocated (issue 20,
designspace/core/memory.py): a clearly impossible setting is refused in one line naming the
estimate, the limit and the batch that would fit; normal settings pass; the estimate agrees
with a hand computation and with the memory one measured training step takes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hostile import refused

from designspace.cli import main
from designspace.core import memory
from designspace.core.arch import Architecture, Stage
from designspace.core.datasets import DataConfig, DatasetFacts, dataset_facts
from designspace.core.named import get_model
from designspace.errors import DesignSpaceError

GiB = 1 << 30
# stem 8 (stride 2), one X stage of depth 1, width 8, stride 2; 1 channel in, 10 classes out
TINY = Architecture(stages=(Stage(1, 8, 1, 8, 2),), stem_width=8, in_channels=1, num_classes=10)


def test_the_estimate_by_hand():
    """TINY at 28 px, by hand: conv outputs stem 8x14x14 = 1568, block 1x1 8x14x14 = 1568,
    3x3 stride 2 8x7x7 = 392, 1x1 392, projection 392, head 10: acts 4322; params 88 (stem
    conv + BN) + 80 + 592 + 80 + 80 (the block's convs + BNs) + 90 (head) = 1010."""
    data = DataConfig(subset=1000, val_subset=100)
    facts = dataset_facts(data)
    est = memory.training_memory(TINY, data, facts, batch_size=64)
    per_image = (4322 + 1 * 28 * 28) * 4 * 3  # (acts + input) x float32 x ACTIVATION_FACTOR
    assert memory.ACTIVATION_FACTOR == 3 and est.per_image == per_image
    assert est.activations == 64 * per_image
    assert est.weights == 1010 * 4 * 4
    # the whole published set decoded at 28 px, then the 1,100 subset images kept
    assert est.data == 70_000 * (784 + 8) + 1_100 * (784 + 8)
    assert est.total == est.activations + est.weights + est.data + memory.RUNTIME_BYTES
    # the trainer never uses a batch larger than the training images
    assert memory.training_memory(TINY, data, facts, 10**7).batch == 1000


_STEP = """
import sys, torch
from designspace.core.named import get_model
from designspace.training.models import build_model
torch.set_num_threads(1)
net = build_model(get_model("RegNetX32").with_io(in_channels=1, num_classes=10))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
x, y = torch.randn(int(sys.argv[1]), 1, 28, 28), torch.randint(0, 10, (int(sys.argv[1]),))
def status(key):  # kB figures of /proc/self/status
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
# Reset the peak (VmHWM) to the current RSS, so that the step's own peak is measured even when
# importing torch had a higher one (then ru_maxrss would not move at all).
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS")
torch.nn.functional.cross_entropy(net(x), y).backward()
opt.step()
print(status("VmHWM") - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_the_estimate_is_near_a_measured_training_step():
    """One training step of RegNetX32 at 28 px, batch 256, on the CPU: the peak RSS it adds
    is within a factor of 3 of the estimate's activations and weights (measured: 2-5% apart)."""
    batch = 256
    proc = subprocess.run(
        [sys.executable, "-c", _STEP, str(batch)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    measured = int(proc.stdout.split()[-1])
    data = DataConfig()
    arch = get_model("RegNetX32").with_io(in_channels=1, num_classes=10)
    est = memory.training_memory(arch, data, dataset_facts(data), batch)
    step = est.activations + est.weights
    assert step / 3 <= measured <= 3 * step, (measured, step)


def test_a_big_model_at_224_px_is_not_refused_on_a_24_gib_machine():
    """RegNetX-400MF at 224 px, batch 128, on 10,000 ImageNet-like images: about 6.8 GiB, which
    a 24 GiB machine holds; with all of ImageNet held in memory (187 GiB of uint8 images) it
    would not fit, whatever the batch."""
    data = DataConfig(dataset="imagefolder", data_root="/unused")
    arch = get_model("RegNetX-400MF")
    small = DatasetFacts(train_images=10_000, val_images=1_000, channels=3, classes=1000,
                         resolution=224)  # fmt: skip
    est = memory.training_memory(arch, data, small, 128)
    assert 4 * GiB < est.total < 12 * GiB
    memory.check_fits(est, 24 * GiB)  # not refused
    imagenet = DatasetFacts(train_images=1_281_167, val_images=50_000, channels=3,
                            classes=1000, resolution=224)  # fmt: skip
    with pytest.raises(DesignSpaceError, match=r"train on fewer images \(--subset"):
        memory.check_fits(memory.training_memory(arch, data, imagenet, 128), 24 * GiB)


def test_the_refusal_names_the_estimate_the_limit_and_the_batch_that_fits():
    data, arch = DataConfig(), get_model("RegNetX32").with_io(in_channels=1, num_classes=10)
    est = memory.training_memory(arch, data, dataset_facts(data), 10**7)
    with pytest.raises(DesignSpaceError) as info:
        memory.check_fits(est, 8 * GiB, asked=10**7)
    msg = str(info.value)
    largest = est.largest_batch(8 * GiB)
    assert msg.startswith("--batch-size 10000000: one training step on 60,000 images (all")
    assert "more than the 8 GiB of memory available" in msg and "\n" not in msg
    assert f"use --batch-size {largest} or fewer" in msg
    fits = memory.training_memory(arch, data, dataset_facts(data), largest)
    memory.check_fits(fits, 8 * GiB)  # the batch it names does fit
    memory.check_fits(est, None)  # memory unknown: never refused


def test_train_refuses_an_absurd_batch_size_before_anything(tmp_path):
    """60,000 images per step at 224 px need terabytes: one line, exit 2, nothing written."""
    line = refused(
        "train", "RegNetX32", "--batch-size", "10000000", "--resize", "224",
        "--save", str(tmp_path / "m.pt"), watch=[tmp_path], cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert line.startswith("designspace train: error: --batch-size 10000000: one training step")
    assert "TiB" in line and "of memory available; use --batch-size" in line, line


def test_normal_settings_pass(monkeypatch):
    """The defaults (batch 128 at 28 px) need well under 1 GiB: not refused even with 1 GiB."""
    monkeypatch.setattr(memory, "available_memory", lambda: 1 * GiB)
    arch = get_model("RegNetX32")
    est = memory.check_training_memory(DataConfig(), 128, arch=arch)
    assert est.total < 1 * GiB and est.batch == 128
    low = memory.check_training_memory(DataConfig(), 128, regime=None)
    assert low.total <= est.total  # the sweep's lower bound is one


def test_sweep_and_study_check_the_batch_size(tmp_path, monkeypatch, capsys):
    """A sweep and a study check a lower bound (the regime's stem) before sampling."""
    monkeypatch.setattr(memory, "available_memory", lambda: 2 * GiB)
    argv = ["sweep", "--space", "AnyNetXA", "-n", "1", "--regime", "fashion-mnist",
            "--executor", "local", "--out", str(tmp_path / "s")]  # fmt: skip
    assert main([*argv, "--batch-size", "10000000"]) == 2
    err = capsys.readouterr().err.strip()
    assert "a training step of any model (its stem alone)" in err and "at least" in err
    assert "\n" not in err and not (tmp_path / "s").exists()
    study = tmp_path / "study.toml"
    study.write_text(
        'name = "s"\nspaces = ["AnyNetXA"]\nn = 1\nregime = "fashion-mnist"\n'
        f'out = "{tmp_path / "o"}"\n[train]\nbatch_size = 10000000\n'
    )
    assert main(["study", str(study)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "[train] batch_size 10000000:" in err and not (tmp_path / "o").exists()
    monkeypatch.setattr(memory, "available_memory", lambda: 64 * GiB)
    from designspace.cli import build_parser
    from designspace.commands.sweep import check_args

    check_args(build_parser().parse_args([*argv, "--batch-size", "128"]))  # not refused


def test_available_memory_is_the_kernels():
    available = memory.available_memory()
    assert available is not None and 0 < available
    import os

    assert available <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
