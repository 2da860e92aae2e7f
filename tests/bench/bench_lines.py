"""What the benchmarks share: timing a loader (best of N runs) and reading the
`<path> <mode> <seconds>` lines that `ckpt4j bench-load` and the Python loaders print."""
import time


def best(fn, directory, runs):
    """The fastest of `runs` calls of fn(directory), in seconds (each result dropped at once)."""
    t_best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn(directory)
        t_best = min(t_best, time.perf_counter() - t0)
        del result
    return t_best


def parse(text):
    """{mode: seconds} from `<path> <mode> <seconds>` lines."""
    out = {}
    for line in text.strip().splitlines():
        _path, mode, secs = line.rsplit(" ", 2)
        out[mode] = float(secs)
    return out
