"""What every benchmark module of the suite shares."""
import sys


class BenchError(Exception):
    pass


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def alternate(iterations, vmms, measure):
    """measure(vmm) for each VMM in turn, iterations times, so host load drifts hit both alike."""
    samples = {vmm.name: [] for vmm in vmms}
    for _ in range(iterations):
        for vmm in vmms:
            samples[vmm.name].append(measure(vmm))
    return [samples[vmm.name] for vmm in vmms]
