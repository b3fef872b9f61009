"""Helpers shared by the benchmark scripts (figures, not tests)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{name:<40} n={len(ms):<6} median {statistics.median(ms):8.3f} ms"
        f"   p95 {percentile(ms, 0.95):8.3f} ms   max {max(ms):8.3f} ms"
    )


def timed(fn: Callable, items: Iterable) -> list[float]:
    """Seconds per call of ``fn`` on each item."""
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out
