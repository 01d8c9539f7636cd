"""What a running service holds: settings and the components loaded once per process.

Loading models and opening the index takes seconds, so the service starts answering `/health` at
once and loads in a background thread; `/ready` turns 200 only when every warm-up step finished.
Components register a step with :meth:`Runtime.add_step`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from shopagent.logs import get_logger
from shopagent.settings import Settings

log = get_logger(__name__)

StepState = Literal["pending", "running", "done", "failed"]


@dataclass
class WarmupStep:
    name: str
    load: Callable[[], Any]
    state: StepState = "pending"
    seconds: float | None = None
    error: str | None = None


@dataclass
class Runtime:
    settings: Settings
    steps: list[WarmupStep] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)
    _thread: threading.Thread | None = None

    def add_step(self, name: str, load: Callable[[], Any]) -> None:
        """Register a loader; its return value is kept in ``components[name]``."""
        self.steps.append(WarmupStep(name, load))

    def warm_up(self, progress: Callable[[list[WarmupStep]], Iterable[WarmupStep]] = iter) -> None:
        """Run every pending step in order; ``progress`` may wrap the steps (e.g. in tqdm)."""
        for step in progress(self.steps):
            step.state = "running"
            started = time.perf_counter()
            try:
                self.components[step.name] = step.load()
            except Exception as exc:  # a failed step keeps the service unready, with the reason
                step.state, step.error = "failed", f"{type(exc).__name__}: {exc}"
                log.error("warmup_failed", step=step.name, error=step.error)
            else:
                step.state = "done"
            step.seconds = round(time.perf_counter() - started, 3)
            log.info("warmup_step", step=step.name, state=step.state, seconds=step.seconds)

    def start_background_warm_up(self) -> None:
        self._thread = threading.Thread(target=self.warm_up, name="warmup", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.ready

    @property
    def ready(self) -> bool:
        return all(step.state == "done" for step in self.steps)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's mallopt parameter numbers (malloc.h)
TRIM_THRESHOLD = 32 << 20  # free bytes kept at a heap's top; glibc's sliding one goes up to 64 MiB


def _mallopt(param: int, value: int) -> bool:
    """glibc's ``mallopt``; False where it refuses the value or libc is not glibc."""
    try:
        return bool(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(param, value))
    except (OSError, AttributeError):
        return False


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas for this process (0 leaves glibc's default); False where libc is not glibc.

    Must run before the service starts its threads: arenas already created stay.
    """
    if arenas <= 0:
        return False
    applied = _mallopt(M_ARENA_MAX, arenas)
    log.info("malloc_arenas", arenas=arenas, applied=applied)
    return applied


def fix_mmap_threshold(kib: int) -> bool:
    """Give every allocation of at least ``kib`` KiB its own mapping, unmapped when freed (0 leaves
    glibc's sliding thresholds); False where libc is not glibc.

    glibc raises its threshold to the size of each mapped block that is freed (up to 32 MiB), so after
    the first few-MiB tensor all later ones come from the heap, where short-lived big blocks between
    long-lived small ones leave holes that only grow. Measured (`shopagent bench load`, 120 s, back to
    back): malloc's free but kept memory 19 → 56 MiB and RSS +26 MiB/min (second half +7) with the
    sliding threshold; 5–8 MiB and +9 (second half +0.6; +3.6 in a repeat) with a fixed 128 KiB one; in-use bytes and
    Python objects flat in both. Fixing it also pins the heap-top trim threshold at 128 KiB, and giving
    the top back and faulting it in again on every burst cost throughput (19 against 23 turns/s); a
    32 MiB trim threshold won it back (22.9 against 22.1 turns/s with the sliding default).
    """
    if kib <= 0:
        return False
    applied = _mallopt(M_MMAP_THRESHOLD, kib * 1024) and _mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    log.info("malloc_mmap_threshold", kib=kib, trim_mib=TRIM_THRESHOLD >> 20, applied=applied)
    return applied


def tune_process_memory(settings: Settings) -> None:
    """What a long-running service sets before it starts threads or imports torch, so memory under
    load stays flat: malloc's arenas and mmap threshold, torch's kernel caches."""
    limit_malloc_arenas(settings.malloc_arenas)
    fix_mmap_threshold(settings.malloc_mmap_threshold_kib)
    disable_torch_kernel_caches()


# Read by MKL and oneDNN (inside torch) when torch loads; a value already in the environment wins.
TORCH_KERNEL_CACHES_OFF = {
    # MKL's fast memory manager keeps its matrix-multiply buffers per calling thread, for good. The
    # service encodes on whichever of its ~40 request threads gets there: measured, 40 threads encoding
    # with MiniLM held +130 MiB with it (+8 MiB without, same speed).
    "MKL_DISABLE_FAST_MM": "1",
    # oneDNN keeps a compiled kernel per input shape (up to 1024, ~28 KiB each), and every new batch
    # size × text length the encoder meets is a new shape, so malloc's in-use memory rose as long as new
    # shapes came: measured, 300 encodes of random shapes (batch 1–16 × 3–60 tokens) +4.4 MiB with the
    # cache, +0.0 without it, in 35 s against 29 s (creating a kernel costs less than the compute).
    "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "0",
}


def disable_torch_kernel_caches() -> bool:
    """Turn off torch's per-thread and per-shape kernel caches (:data:`TORCH_KERNEL_CACHES_OFF`); False
    when torch is already imported (the libraries read the switches when they load)."""
    applied = "torch" not in sys.modules
    if applied:
        for name, value in TORCH_KERNEL_CACHES_OFF.items():
            os.environ.setdefault(name, value)
    log.info("torch_kernel_caches_off", applied=applied, **{k: os.environ.get(k) for k in TORCH_KERNEL_CACHES_OFF})
    return applied
