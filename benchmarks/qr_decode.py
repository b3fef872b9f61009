"""QR decoding on the seeded hard set: our pipeline against bare zxing-cpp and ZBar.

The set is the one platform.md §3 describes, generated on the fly by ``fixtures/generate.py``
(``hard_set``): 12 stress classes x 25 frames holding a synthetic person's QR, half 640x480,
half 1280x720, and 50 frames holding none (desk, checkerboard, random blocks, 1-D barcode,
text, a phone app). Decoders get the gray frame after its JPEG round trip.

- success: one decoded text equals the payload exactly; garbled: any other text returned on a
  QR frame; false positive (FP): any result on a frame without a QR.
- timing: one pinned core, 3 warm-up frames; per frame the decoders run in turn (so a busy
  machine slows them alike) and each frame's time is the best of ``--repeats`` runs (ZBar:
  one run, it is 20x slower). Median and p95 are over those per-frame times.

Run: ``.venv/bin/python benchmarks/qr_decode.py [--seed N] [--per-class 25] [--empty 50]``.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np
from _common import ROOT, percentile

from checkin.qr import RETRY_STAGES, ZbarDecoder, ZxingDecoder
from fixtures.generate import HARD_CLASSES, HARD_SEED, HardFrame, hard_frame

assert ROOT  # _common put the repository on sys.path


@dataclass
class Tally:
    name: str
    ok: Counter = field(default_factory=Counter)  # per class
    garbled: int = 0
    false_positives: int = 0
    qr_ms: list[float] = field(default_factory=list)
    empty_ms: list[float] = field(default_factory=list)
    stages: Counter = field(default_factory=Counter)


def bare_zxing() -> Callable[[np.ndarray], list[bytes]]:
    """zxing-cpp exactly as platform.md measured it: ``read_barcodes(gray, formats=QRCode)``."""
    import zxingcpp

    qr = zxingcpp.BarcodeFormat.QRCode

    def decode(gray: np.ndarray) -> list[tuple[bytes, str]]:
        return [(code.bytes, "direct") for code in zxingcpp.read_barcodes(gray, formats=qr)]

    return decode


def wrap(decoder: ZxingDecoder | ZbarDecoder) -> Callable[[np.ndarray], list[tuple[bytes, str]]]:
    def decode(gray: np.ndarray) -> list[tuple[bytes, str]]:
        return [(d.raw, d.stage) for d in decoder.decode(gray)]

    return decode


def best_of(fn: Callable, gray: np.ndarray, repeats: int) -> tuple[list, float]:
    best, result = float("inf"), []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(gray)
        best = min(best, time.perf_counter() - start)
    return result, best * 1000


def generate(per_class: int, empty: int, seed: int, workers: int) -> list[HardFrame]:
    jobs = [(s, i, seed) for s in HARD_CLASSES for i in range(per_class)]
    jobs += [("empty", i, seed) for i in range(empty)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_frame, jobs, chunksize=8))


def _frame(job: tuple[str, int, int]) -> HardFrame:
    return hard_frame(*job)


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def run(
    frames: list[HardFrame],
    decoders: dict[str, Callable[[np.ndarray], list[tuple[bytes, str]]]],
    repeats: dict[str, int],
) -> dict[str, Tally]:
    grays = [(frame, frame.gray()) for frame in frames]
    for _, gray in grays[:3]:  # warm-up
        for fn in decoders.values():
            fn(gray)
    tallies = {name: Tally(name) for name in decoders}
    names = list(decoders)
    for index, (frame, gray) in enumerate(grays):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            found, ms = best_of(decoders[name], gray, repeats.get(name, 1))
            tally = tallies[name]
            if frame.payload is None:
                tally.empty_ms.append(ms)
                tally.false_positives += bool(found)
                continue
            tally.qr_ms.append(ms)
            expected = frame.payload.encode("utf-8")
            raws = [raw for raw, _ in found]
            if expected in raws:
                tally.ok[frame.stress] += 1
                tally.stages[dict(found)[expected]] += 1
            if any(raw != expected for raw in raws):
                tally.garbled += 1
    return tallies


def ablation(frames: list[HardFrame], repeats: int) -> list[tuple[str, int, float, float]]:
    """Retry stages added one at a time, in the pipeline's order: frames decoded, and the mean
    and p95 ms per frame over the QR frames the direct pass does not read (the only frames
    where retries beyond the fixed-threshold pass run)."""
    grays = [(f.payload.encode(), f.gray()) for f in frames if f.payload is not None]
    direct = ZxingDecoder(retries=False)
    read_direct = sum(raw in [d.raw for d in direct.decode(g)] for raw, g in grays)
    missed = [(raw, g) for raw, g in grays if raw not in [d.raw for d in direct.decode(g)]]
    rows = []
    for count in range(1, len(RETRY_STAGES) + 1):
        decoder = ZxingDecoder(stages=RETRY_STAGES[:count])
        times, extra = [], 0
        for raw, gray in missed:
            found, ms = best_of(decoder.decode, gray, repeats)
            times.append(ms)
            extra += raw in [d.raw for d in found]
        rows.append((f"+ {RETRY_STAGES[count - 1]}", read_direct + extra,
                     statistics.mean(times), percentile(times, 0.95)))  # fmt: skip
    return [("direct pass", read_direct, 0.0, 0.0), *rows]


def ms_summary(values: list[float]) -> str:
    if not values:
        return "      -        -"
    return f"{statistics.median(values):7.2f}  {percentile(values, 0.95):7.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=HARD_SEED)
    parser.add_argument("--per-class", type=int, default=25)
    parser.add_argument("--empty", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-zbar", action="store_true", help="skip ZBar (slow)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    frames = generate(args.per_class, args.empty, args.seed, workers=os.cpu_count() or 1)
    qr_frames = [f for f in frames if f.payload is not None]
    sizes = Counter(f.size for f in qr_frames)
    print(
        f"hard set: seed {args.seed}, {len(qr_frames)} QR frames "
        f"({', '.join(f'{w}x{h}: {n}' for (w, h), n in sorted(sizes.items()))}), "
        f"{len(frames) - len(qr_frames)} without QR; generated in "
        f"{time.perf_counter() - started:.1f} s"
    )
    cv2.setNumThreads(1)
    print(f"timing: {pin_one_core()}, best of {args.repeats} runs per frame (ZBar: 1)")

    decoders = {
        "pipeline (zxing-cpp + retries)": wrap(ZxingDecoder()),
        "bare zxing-cpp": bare_zxing(),
    }
    if not args.no_zbar:
        decoders["ZBar via pyzbar, raw bytes"] = wrap(ZbarDecoder())
    repeats = {name: (1 if "ZBar" in name else args.repeats) for name in decoders}
    tallies = run(frames, decoders, repeats)

    total, empty = len(qr_frames), len(frames) - len(qr_frames)
    print()
    print(f"{'decoder':<32} {'decoded':>13} {'garbled':>8} {'FP':>6}   "
          f"{'median ms':>9} {'p95 ms':>7}   {'no-QR median':>12} {'p95':>7}")  # fmt: skip
    for tally in tallies.values():
        ok = sum(tally.ok.values())
        print(
            f"{tally.name:<32} {ok:>4}/{total} {100 * ok / total:5.1f}% {tally.garbled:>8} "
            f"{tally.false_positives:>3}/{empty}   {ms_summary(tally.qr_ms)}   "
            f"{ms_summary(tally.empty_ms):>21}"
        )

    ours, bare = tallies["pipeline (zxing-cpp + retries)"], tallies["bare zxing-cpp"]
    print()
    print(f"{'class':<14} {'pipeline':>8} {'bare':>5}" + ("   zbar" if not args.no_zbar else ""))
    zbar = tallies.get("ZBar via pyzbar, raw bytes")
    for stress in HARD_CLASSES:
        line = f"{stress:<14} {ours.ok[stress]:>8} {bare.ok[stress]:>5}"
        if zbar:
            line += f" {zbar.ok[stress]:>6}"
        print(line + f"   /{args.per_class}")

    print()
    print("pipeline: how each decoded frame was read:", dict(ours.stages.most_common()))
    print(
        "median ratio pipeline/bare: "
        f"{statistics.median(ours.qr_ms) / statistics.median(bare.qr_ms):.2f} (QR frames), "
        f"{statistics.median(ours.empty_ms) / statistics.median(bare.empty_ms):.2f} (no QR)"
    )
    print()
    print("retry stages added in order (ms over the QR frames the direct pass misses):")
    for stage, decoded, mean, p95 in ablation(frames, args.repeats):
        cost = f"mean {mean:6.2f}  p95 {p95:6.2f}" if mean else ""
        print(f"  {stage:<14} {decoded:>4}/{total}   {cost}")


if __name__ == "__main__":
    sys.exit(main())
