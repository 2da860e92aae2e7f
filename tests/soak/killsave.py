"""kill -9 during save: ROUNDS rounds of SIGKILL at a random point of a MIB-mebibyte save.

Each round starts the Java writer io.ckpt4j.save.SaveLoop over one target path (it saves version
1, 2, 3, ... forever: version N holds version=N, a payload of MIB MiB all equal to N % 251 and
check=[N]), lets its first save finish, then kills it with SIGKILL at a random point of its next
save (uniform over 0..1.2 x the fastest save seen, so some kills land just after the rename).
Then real torch 2.13 loads the target (weights_only=True) and it must be bit-exact one whole
version, the last saved or the one being saved: the SHA-256 of every tensor's bytes equals the
SHA-256 of that version's content. At most one temporary file (.NAME.ckpt4j-PID-*.tmp, the
killed save's) may be left, and the next round's first save must remove it (TorchSaver removes
the temporary files of its own naming whose process is gone).

Prints one line per round and the totals; exits 1 on any failure.

Usage: python killsave.py ROUNDS MIB DIR CLASSPATH [SEED]
"""
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import torch

MODULUS = 251          # SaveLoop.PAYLOAD_MODULUS
KILL_SPAN = 1.2        # kill at uniform(0, KILL_SPAN) x the fastest save after "start N"
LINE_TIMEOUT_S = 600


def temporaries(target):
    prefix = "." + os.path.basename(target) + ".ckpt4j-"
    d = os.path.dirname(target)
    return sorted(f for f in os.listdir(d) if f.startswith(prefix))


def tensor_sha(t):
    return hashlib.sha256(t.contiguous().view(torch.uint8).numpy().tobytes()).hexdigest()


class Expected:
    """SHA-256 of each tensor of version N, computed from SaveLoop's definition (cached)."""

    def __init__(self, mib):
        self.size = mib << 20
        self.payloads = {}

    def hashes(self, version):
        fill = version % MODULUS
        if fill not in self.payloads:
            self.payloads[fill] = hashlib.sha256(bytes([fill]) * self.size).hexdigest()
        check = hashlib.sha256(version.to_bytes(8, "little", signed=True)).hexdigest()
        return {"payload": self.payloads[fill], "check": check}


def verify(target, expected, saved, started):
    """The version the target holds, bit-exact; raises on anything else."""
    got = torch.load(target, weights_only=True)
    version = got["version"]
    if version not in (saved, started):
        raise AssertionError("version %d, but the writer had saved %d and started %d"
                             % (version, saved, started))
    for name, sha in expected.hashes(version).items():
        actual = tensor_sha(got[name])
        if actual != sha:
            raise AssertionError("%s of version %d: sha256 %s, expected %s"
                                 % (name, version, actual[:16], sha[:16]))
    return version


class Writer:
    def __init__(self, classpath, target, mib):
        self.proc = subprocess.Popen(
            ["java", "-Xmx256m", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0",
             "-Dorg.bytedeco.javacpp.logger=slf4j",
             "-Dorg.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader=error",
             "-cp", classpath, "io.ckpt4j.save.SaveLoop", target, str(mib)],
            stdout=subprocess.PIPE, text=True)

    def next(self, word):
        deadline = time.monotonic() + LINE_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("the writer exited (%s) before '%s'" % (self.proc.poll(), word))
            if line.startswith(word + " "):
                return line.split()
        raise AssertionError("no '%s' line in %d s" % (word, LINE_TIMEOUT_S))

    def kill(self):
        """SIGKILL; returns the last 'saved' and 'start' versions it printed before dying."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        last = {"saved": 0, "start": 0}
        for line in self.proc.stdout.read().splitlines():
            word = line.split()
            if word and word[0] in last:
                last[word[0]] = int(word[1])
        return last


def main():
    rounds, mib, d, classpath = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 11)
    os.makedirs(d, exist_ok=True)
    target = os.path.join(d, "model.pt")
    expected = Expected(mib)
    fastest = None
    failures = 0
    inside = 0
    previous_temps = []
    start_all = time.monotonic()
    for r in range(rounds):
        writer = Writer(classpath, target, mib)
        try:
            saved = writer.next("saved")
            nanos = int(saved[2])
            fastest = nanos if fastest is None else min(fastest, nanos)
            stale = [t for t in previous_temps if t in temporaries(target)]
            started = int(writer.next("start")[1])
            delay = rng.uniform(0, KILL_SPAN) * fastest / 1e9
            time.sleep(delay)
        finally:
            last = writer.kill()
        # The writer may have gone on past 'start N' while we slept: what it printed last counts.
        saved_version = max(int(saved[1]), last["saved"])
        started = max(started, last["start"])
        temps = temporaries(target)
        problems = []
        if stale:
            problems.append("the previous round's temporary files survived a save: %s" % stale)
        if len(temps) > 1:
            problems.append("%d temporary files: %s" % (len(temps), temps))
        try:
            version = verify(target, expected, saved_version, started)
        except Exception as e:  # any failure to load bit-exact is this round's failure
            version = None
            problems.append(str(e).splitlines()[0])
        inside += 1 if temps else 0
        failures += 1 if problems else 0
        print("round %3d: killed %6.0f ms into save %d (fastest %5.0f ms): target holds version %s,"
              " bit-exact; %d temporary file(s) left%s"
              % (r, delay * 1e3, started, fastest / 1e6, version, len(temps),
                 "; FAILED: " + "; ".join(problems) if problems else ""), flush=True)
        previous_temps = temps
    # The last round's leftover: one more save must remove it.
    writer = Writer(classpath, target, mib)
    try:
        writer.next("saved")
    finally:
        writer.kill()
    left = [t for t in previous_temps if t in temporaries(target)]
    if left:
        failures += 1
        print("FAILED: a save left the last round's temporary files: %s" % left)
    print("killsave: %d rounds of SIGKILL during a %d MiB save, %d landed inside a write"
          " (temporary file present), %d failures, %.0f s"
          % (rounds, mib, inside, failures, time.monotonic() - start_all))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
