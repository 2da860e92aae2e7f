"""Python ranks of a test job as child processes of one script, bounded in time."""
import multiprocessing as mp
import socket
import sys


def free_port():
    """A TCP port free now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(target, world, args, timeout_s, method="spawn"):
    """target(rank, world, *args) in `world` processes; exits the script when one fails or does
    not finish within timeout_s (it is killed)."""
    ctx = mp.get_context(method)
    procs = [ctx.Process(target=target, args=(r, world) + tuple(args)) for r in range(world)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout_s)
    for p in procs:
        if p.is_alive():
            p.kill()
            sys.exit("a rank did not finish in %d s" % timeout_s)
        if p.exitcode != 0:
            sys.exit("a rank failed with exit code %s" % p.exitcode)
