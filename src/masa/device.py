"""Where a job runs: the torch device and the number of CPU threads."""
from __future__ import annotations

import functools
import logging
import os
import platform

import torch

log = logging.getLogger(__name__)


def pick(name: str = "auto", local_rank: int = 0) -> torch.device:
    """'auto' (a GPU when there is one, else the CPU), 'cpu', 'cuda' or 'cuda:N'; a GPU that is
    not there is one clear error rather than torch's."""
    if name == "auto":
        name = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} asked for, but there is no CUDA device here "
                             "(no GPU, or a CPU-only torch build): use device=auto or cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r} asked for, but there are only {torch.cuda.device_count()} CUDA devices")
        torch.cuda.set_device(dev)
    return dev


def cpu_name() -> str:
    """The CPU's model name ('AMD EPYC ...'): results and speeds are comparable only on the same kind."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache  # decided once per process, so that the jobs of one process (a demo, a test session) agree
def auto_threads() -> int:
    """The cores this process may use less the machine's current load, at least 1: on a machine
    that others are using, torch's default (every core) ran 1.5-3x slower than one thread."""
    cores = available_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(1, min(cores, round(cores - load)))


def set_threads(threads: int = 0) -> int:
    """Set torch's CPU threads (0 = auto_threads()) and return the number used."""
    n = threads if threads > 0 else auto_threads()
    if n != torch.get_num_threads():
        torch.set_num_threads(n)
    log.debug("using %d CPU threads", n)
    return n
