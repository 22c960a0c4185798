"""Benchmark the focal loss and FocalClassifier against their baselines.

Run ``python benchmarks/bench_loss.py`` (``--help`` for options). Every timing
is repeated, the contenders are interleaved within each repetition, and the
medians are quoted. CPU, float32. Ratios and goals (issue #3):

- FocalLoss forward+backward / F.cross_entropy forward+backward, N=65536,
  C=100: goal <= 1.2;
- kornia.losses.focal_loss / FocalLoss, same task: goal >= 1.5 (ours faster);
- FocalClassifier epoch time / skorch NeuralNetClassifier with
  CrossEntropyLoss, same MLP, optimizer and data: goal <= 1.10.

kornia is the ``bench`` extra; without it the second ratio is skipped.

``--equal-threads`` prints only issue #17's table instead: FocalLoss (and
its torch path) / ``F.cross_entropy`` at 65536 x 100, 65536 x 1000,
(8, 21, 128, 128) (goal <= 1.15), 128 x 5 and 128 x 100 (goal <= 1.5), and
BinaryFocalLoss / BCE with logits at 65536 x 100 and 200000 x 80
(goal <= 1.3), with torch and numba on 1 thread, then on 2 (labelled);
each line also gives the minor page faults per call (``pf``).

Context, with no goal:

- ``FocalLoss, 1 numba thread`` runs our compiled CPU kernel on one thread,
  like torch's baselines. By default it uses numba's threads for inputs of
  65536 entries or more.
- A block times probability targets at full size, and forward+backward at a
  training batch of 128 x 5, with and without label smoothing (200 calls).
- A multi-label block times BinaryFocalLoss against
  ``F.binary_cross_entropy_with_logits`` and kornia's sigmoid focal loss.
- The epoch benchmark splits the ratio in two.
  ``NeuralNetClassifier+FocalLoss`` is skorch's own classifier with our loss:
  the cost of the focal loss alone, with skorch's data pipeline on both
  sides. ``FocalClassifier+CE`` is FocalClassifier with
  ``criterion=CrossEntropyLoss``: the wrapper alone. It includes
  FocalClassifier's loader, which fetches each batch with one index
  instead of one sample at a time.
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import ctypes
import platform
import resource
import statistics
import time

import numba
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier

from sklearn_focal import FocalClassifier
from sklearn_focal.losses import BinaryFocalLoss, FocalLoss
from sklearn_focal.neural_network._plumbing import _MLP


def _time_backward(loss_fn, logits, target):
    logits.grad = None
    start = time.perf_counter()
    loss_fn(logits, target).backward()
    return time.perf_counter() - start


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _median_times(contenders, repeats, warmup=1, faults=None):
    """Median forward+backward time of each ``name: (loss_fn, logits, target)``,
    the contenders interleaved within each repetition after ``warmup`` calls
    each. A dict passed as ``faults`` receives each contender's minor page
    faults per timed call (``getrusage``'s ``ru_minflt``)."""
    for fn, logits, target in contenders.values():
        for _ in range(warmup):
            _time_backward(fn, logits, target)
    times = {name: [] for name in contenders}
    paged = dict.fromkeys(contenders, 0)
    for _ in range(repeats):
        for name, (fn, logits, target) in contenders.items():
            before = _minor_faults()
            times[name].append(_time_backward(fn, logits, target))
            paged[name] += _minor_faults() - before
    if faults is not None:
        faults.update({name: count / repeats for name, count in paged.items()})
    return {name: statistics.median(values) for name, values in times.items()}


def _calls(loss_fn, calls):
    """``loss_fn`` called ``calls`` times (forward and backward but for the
    last, which :func:`_time_backward` completes)."""
    if calls == 1:
        return loss_fn

    def run(logits, target):
        for _ in range(calls - 1):
            logits.grad = None
            loss_fn(logits, target).backward()
        logits.grad = None
        return loss_fn(logits, target)

    return run


def _keep_freed_buffers():
    """Ask glibc to keep freed buffers (up to 1 GiB) for reuse instead of
    returning them to the OS, so that a fresh gradient does not page-fault on
    every call (on either side). Returns the largest buffer kept, in MiB
    (0: not glibc, or refused)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return 0
    # M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h). Buffers above
    # the threshold are mmap'ed and fault on every call; some glibc builds
    # refuse thresholds above 32 MiB: the table reports the faults.
    if not libc.mallopt(-1, 1 << 30):
        return 0
    for mib in (1024, 32):
        if libc.mallopt(-3, mib << 20):
            return mib
    return 0


def _print_times(title, times, width=36, digits=2):
    print(title)
    for name, value in times.items():
        print(f"  {name:<{width}s} {1e3 * value:8.{digits}f} ms")


def bench_losses(n_samples, n_classes, repeats, gamma):
    gen = torch.Generator().manual_seed(0)
    logits = (3 * torch.randn(n_samples, n_classes, generator=gen)).requires_grad_()
    target = torch.randint(0, n_classes, (n_samples,), generator=gen)
    focal = FocalLoss(gamma=gamma)

    def focal_one_thread(x, t):
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return focal(x, t)
        finally:
            numba.set_num_threads(threads)

    contenders = {
        "F.cross_entropy": F.cross_entropy,
        "FocalLoss": focal,
        "FocalLoss, 1 numba thread": focal_one_thread,
    }
    try:
        import kornia

        contenders["kornia focal_loss"] = lambda x, t: kornia.losses.focal_loss(
            x, t, alpha=None, gamma=gamma, reduction="mean"
        )
    except ImportError:
        print("kornia is not installed (pip install 'sklearn-focal[bench]'): skipped")
    return _median_times(
        {name: (fn, logits, target) for name, fn in contenders.items()}, repeats
    )


def bench_soft_and_small(n_samples, n_classes, repeats, gamma):
    """Probability targets at full size, and batch 128 x 5 (context, no goal)."""
    gen = torch.Generator().manual_seed(2)
    logits = (3 * torch.randn(n_samples, n_classes, generator=gen)).requires_grad_()
    probs = torch.softmax(torch.randn(n_samples, n_classes, generator=gen), 1)
    focal = FocalLoss(gamma=gamma)
    big = {
        "F.cross_entropy, probabilities": (F.cross_entropy, logits, probs),
        "FocalLoss, probabilities": (focal, logits, probs),
    }
    small_logits = torch.randn(128, 5, generator=gen).requires_grad_()
    small_target = torch.randint(0, 5, (128,), generator=gen)
    smoothed_ce = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    smoothed_focal = FocalLoss(gamma=gamma, label_smoothing=0.1)
    ce = torch.nn.CrossEntropyLoss()

    def many(fn, calls=200):
        def run(x, t):
            for _ in range(calls - 1):
                fn(x, t).backward()
            return fn(x, t)

        return run

    small = {
        "CrossEntropyLoss, 128 x 5 (x200)": (many(ce), small_logits, small_target),
        "FocalLoss, 128 x 5 (x200)": (many(focal), small_logits, small_target),
        "CE, smoothing 0.1, 128 x 5 (x200)": (
            many(smoothed_ce),
            small_logits,
            small_target,
        ),
        "FocalLoss, smoothing 0.1 (x200)": (
            many(smoothed_focal),
            small_logits,
            small_target,
        ),
    }
    return _median_times({**big, **small}, repeats)


def bench_binary(n_samples, n_labels, repeats, gamma):
    """Multi-label sigmoid losses, forward+backward (context, no goal)."""
    gen = torch.Generator().manual_seed(1)
    logits = (3 * torch.randn(n_samples, n_labels, generator=gen)).requires_grad_()
    target = (torch.rand(n_samples, n_labels, generator=gen) > 0.9).float()
    contenders = {
        "F.binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
        "BinaryFocalLoss": BinaryFocalLoss(gamma=gamma, alpha=0.25),
    }
    try:
        import kornia

        contenders["kornia binary_focal_loss"] = lambda x, t: (
            kornia.losses.binary_focal_loss_with_logits(
                x, t, alpha=0.25, gamma=gamma, reduction="mean"
            )
        )
    except ImportError:
        pass
    return _median_times(
        {name: (fn, logits, target) for name, fn in contenders.items()}, repeats
    )


def bench_equal_threads(repeats, gamma, quick=False):
    """Issue #17's table: every contender on the same number of threads.

    For 1 and then 2 threads (torch intra-op and numba alike), forward +
    backward of FocalLoss (compiled kernel, and the torch path) against
    ``F.cross_entropy``, and of BinaryFocalLoss against BCE with logits.
    Every contender gets six warm-up calls (the heap grows to hold the
    buffers of a call); each call allocates its fresh ``.grad`` alike
    (``x.grad = None`` before each). glibc is asked to keep
    freed buffers (:func:`_keep_freed_buffers`), and each line reports the
    minor page faults per call of CE and of FocalLoss (``pf``), so that
    allocation effects are visible rather than hidden in the ratios.
    """
    from _machine import describe, threads

    from sklearn_focal.losses._common import _use_compiled_kernels

    print(describe())
    kept = _keep_freed_buffers()
    print(
        f"glibc keeps freed buffers up to {kept} MiB (mallopt); 6 warm-up calls each"
        if kept
        else "freed buffers: the allocator's defaults (no mallopt)"
    )
    focal = FocalLoss(gamma=gamma)

    def torch_path(x, t):
        with _use_compiled_kernels(False):
            return focal(x, t)

    scale = 16 if quick else 1
    softmax_shapes = [
        ((65536 // scale, 100), 1.15),
        ((65536 // scale, 1000), 1.15),
        ((8, 21, 128 // scale, 128), 1.15),
        ((128, 5), 1.5),
        ((128, 100), 1.5),
    ]
    binary_shapes = [(65536 // scale, 100), (200000 // scale, 80)]
    gen = torch.Generator().manual_seed(3)
    for n_threads in (1, 2):
        with threads(n_threads):
            print(f"\n[{n_threads} thread{'s' if n_threads > 1 else ''} each]")
            for shape, goal in softmax_shapes:
                logits = (3 * torch.randn(*shape, generator=gen)).requires_grad_()
                target = torch.randint(
                    0, shape[1], shape[:1] + shape[2:], generator=gen
                )
                # A small batch times 200 calls per sample (per call below):
                # one call of 0.05 ms is at the clock's and the noise's mercy.
                calls = 200 if logits.numel() < 65536 else 1
                faults = {}
                times = _median_times(
                    {
                        "CE": (_calls(F.cross_entropy, calls), logits, target),
                        "FocalLoss": (_calls(focal, calls), logits, target),
                        "FocalLoss torch path": (
                            _calls(torch_path, calls),
                            logits,
                            target,
                        ),
                    },
                    repeats,
                    warmup=6,
                    faults=faults,
                )
                times = {name: value / calls for name, value in times.items()}
                faults = {name: value / calls for name, value in faults.items()}
                print(
                    f"  {str(shape):<22s} CE {1e3 * times['CE']:9.2f} ms   "
                    f"FocalLoss / CE {times['FocalLoss'] / times['CE']:5.2f} "
                    f"(goal <= {goal:g})   torch path / CE "
                    f"{times['FocalLoss torch path'] / times['CE']:5.2f}   "
                    f"pf CE {faults['CE']:.0f}, FocalLoss {faults['FocalLoss']:.0f}"
                )
            binary = BinaryFocalLoss(gamma=gamma)
            for shape in binary_shapes:
                logits = (3 * torch.randn(*shape, generator=gen)).requires_grad_()
                target = (torch.rand(*shape, generator=gen) > 0.9).float()
                faults = {}
                times = _median_times(
                    {
                        "BCE": (F.binary_cross_entropy_with_logits, logits, target),
                        "BinaryFocalLoss": (binary, logits, target),
                    },
                    repeats,
                    warmup=6,
                    faults=faults,
                )
                print(
                    f"  {str(shape):<22s} BCE {1e3 * times['BCE']:8.2f} ms   "
                    f"BinaryFocalLoss / BCE "
                    f"{times['BinaryFocalLoss'] / times['BCE']:5.2f} (goal <= 1.3)   "
                    f"pf BCE {faults['BCE']:.0f}, "
                    f"BinaryFocalLoss {faults['BinaryFocalLoss']:.0f}"
                )


def _epoch_durations(net, X, y):
    net.fit(X, y)
    return list(net.history[:, "dur"])


def bench_epochs(n_samples, n_features, n_classes, rounds, epochs):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features // 2,
        n_classes=n_classes,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X).astype(np.float32)
    common = dict(
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=128,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
        device="cpu",
    )
    focal = FocalClassifier(gamma=2.0, hidden_layer_sizes=(100,), **common)
    baseline = NeuralNetClassifier(
        _MLP,
        module__n_features=n_features,
        module__n_classes=n_classes,
        module__hidden_layer_sizes=(100,),
        criterion=torch.nn.CrossEntropyLoss,
        **common,
    )
    focal_ce = FocalClassifier(
        hidden_layer_sizes=(100,), criterion=torch.nn.CrossEntropyLoss, **common
    )
    skorch_focal = NeuralNetClassifier(
        _MLP,
        module__n_features=n_features,
        module__n_classes=n_classes,
        module__hidden_layer_sizes=(100,),
        criterion=FocalLoss,
        criterion__gamma=2.0,
        **common,
    )
    nets = {
        "FocalClassifier": focal,
        "NeuralNetClassifier+CE": baseline,
        "NeuralNetClassifier+FocalLoss": skorch_focal,
        "FocalClassifier+CE": focal_ce,
    }
    durations = {name: [] for name in nets}
    for _ in range(rounds):
        for name, net in nets.items():
            durations[name] += _epoch_durations(net, X, y)
    return {name: statistics.median(values) for name, values in durations.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--equal-threads",
        action="store_true",
        help="only issue #17's table: every contender on 1, then 2 threads",
    )
    args = parser.parse_args(argv)
    if args.equal_threads:
        bench_equal_threads(args.repeats, gamma=2.0, quick=args.quick)
        return
    torch.set_num_threads(args.threads)
    n, c = (4096, 100) if args.quick else (65536, 100)
    epoch_rows = 2000 if args.quick else 20000

    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} thread(s), float32, CPU"
    )
    loss_times = bench_losses(n, c, args.repeats, gamma=2.0)
    _print_times(
        f"\nLoss forward+backward, N={n}, C={c}, gamma=2 (median of {args.repeats}):",
        loss_times,
        width=30,
    )
    single = loss_times["FocalLoss, 1 numba thread"]
    ratio = loss_times["FocalLoss"] / loss_times["F.cross_entropy"]
    print(f"  FocalLoss / F.cross_entropy      = {ratio:.3f}  (goal <= 1.2)")
    ratio = single / loss_times["F.cross_entropy"]
    print(f"    with 1 numba thread            = {ratio:.3f}")
    if "kornia focal_loss" in loss_times:
        ratio = loss_times["kornia focal_loss"] / loss_times["FocalLoss"]
        print(f"  kornia focal_loss / FocalLoss    = {ratio:.3f}  (goal >= 1.5)")
        ratio = loss_times["kornia focal_loss"] / single
        print(f"    with 1 numba thread            = {ratio:.3f}")

    soft_times = bench_soft_and_small(n, c, args.repeats, gamma=2.0)
    _print_times(
        f"\nProbability targets ({n} x {c}) and batches of 128 x 5, gamma=2:",
        soft_times,
    )
    pairs = [
        ("FocalLoss, probabilities", "F.cross_entropy, probabilities"),
        ("FocalLoss, 128 x 5 (x200)", "CrossEntropyLoss, 128 x 5 (x200)"),
        ("FocalLoss, smoothing 0.1 (x200)", "CE, smoothing 0.1, 128 x 5 (x200)"),
    ]
    for ours, theirs in pairs:
        ratio = soft_times[ours] / soft_times[theirs]
        print(f"  {ours} / {theirs.split(',')[0]} = {ratio:.3f}")

    binary_times = bench_binary(n, c, args.repeats, gamma=2.0)
    _print_times(
        f"\nMulti-label sigmoid losses, forward+backward, {n} x {c}, gamma=2, "
        f"alpha=0.25 (median of {args.repeats}):",
        binary_times,
    )
    bce = binary_times["F.binary_cross_entropy_with_logits"]
    ratio = binary_times["BinaryFocalLoss"] / bce
    print(f"  BinaryFocalLoss / BCE with logits      = {ratio:.3f}")
    if "kornia binary_focal_loss" in binary_times:
        ratio = (
            binary_times["kornia binary_focal_loss"] / binary_times["BinaryFocalLoss"]
        )
        print(f"  kornia binary_focal_loss / BinaryFocalLoss = {ratio:.3f}")

    epoch_times = bench_epochs(epoch_rows, 20, 5, args.rounds, epochs=3)
    _print_times(
        f"\nEpoch time, MLP (100,), Adam, batch 128, {epoch_rows} x 20, 5 classes "
        f"(median of {3 * args.rounds} epochs each, interleaved fits):",
        epoch_times,
        width=30,
        digits=1,
    )
    baseline = epoch_times["NeuralNetClassifier+CE"]
    ratio = epoch_times["FocalClassifier"] / baseline
    print(f"  FocalClassifier / NeuralNetClassifier+CE = {ratio:.3f}  (goal <= 1.10)")
    ratio = epoch_times["NeuralNetClassifier+FocalLoss"] / baseline
    print(f"  NeuralNetClassifier+FocalLoss / NeuralNetClassifier+CE = {ratio:.3f}")
    ratio = epoch_times["FocalClassifier+CE"] / baseline
    print(f"  FocalClassifier+CE / NeuralNetClassifier+CE = {ratio:.3f}")


if __name__ == "__main__":
    main()
