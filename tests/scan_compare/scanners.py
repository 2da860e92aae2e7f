"""The scanners compare.py runs: how each is started on a file or a directory, and how its real
output and exit status map to flagged / clean / nothing scanned / error / timeout."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ALL_TOOLS = ["picklescan", "modelscan", "fickling", "modelaudit", "ckpt4j"]
QUIET_ENV = {"PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1",
             "PYTHONWARNINGS": "ignore", "NO_COLOR": "1", "TERM": "dumb"}


# ---------------------------------------------------------------------------------------------
# Running one command
# ---------------------------------------------------------------------------------------------

class Run:
    def __init__(self, rc, out, err, secs, timed_out):
        self.rc, self.out, self.err, self.secs, self.timed_out = rc, out, err, secs, timed_out


def run(cmd, timeout, cwd=None, env=None):
    """Runs cmd in its own session; on timeout kills that session's process group (only it)."""
    e = dict(os.environ)
    e.update(QUIET_ENV)
    if env:
        e.update(env)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return Run(p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                   time.perf_counter() - t0, False)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        return Run(None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                   time.perf_counter() - t0, True)


def first_line(s, limit=160):
    for line in s.splitlines():
        line = line.strip()
        if line:
            return line[:limit]
    return ""


def result(outcome, run_, detail):
    return {"outcome": outcome, "rc": run_.rc, "secs": round(run_.secs, 3), "detail": detail[:400]}


# ---------------------------------------------------------------------------------------------
# The tools: each maps its real output to flagged / clean / nothing / error
# ---------------------------------------------------------------------------------------------

class Tool:
    name = "?"
    dir_mode = True

    def __init__(self, exe):
        self.exe = exe

    def scan(self, path, timeout):
        with tempfile.TemporaryDirectory(prefix=f"cmp-{self.name}-") as tmp:
            r = run(self.command(path, tmp), timeout, cwd=tmp)
            if r.timed_out:
                return result("timeout", r, f"over {timeout} s")
            return self.classify(r, tmp)

    def scan_dir(self, corpus, timeout):
        with tempfile.TemporaryDirectory(prefix=f"cmp-{self.name}-") as tmp:
            return run(self.command(corpus, tmp), timeout, cwd=tmp)


class Picklescan(Tool):
    name = "picklescan"

    def command(self, path, tmp):
        return [self.exe, "-p", str(path)]

    def classify(self, r, tmp):
        text = r.out + "\n" + r.err

        def count(label):
            m = re.search(rf"^{label}: (\d+)", text, re.M)
            return int(m.group(1)) if m else None
        dangerous, scanned, suspicious = count("Dangerous globals"), count("Scanned files"), count("Suspicious globals")
        found = [ln.split(": ", 1)[-1] for ln in text.splitlines() if "FOUND" in ln]
        if dangerous:
            return result("flagged", r, "; ".join(found) or f"{dangerous} dangerous globals")
        if r.rc == 2 or dangerous is None:
            err = [ln for ln in text.splitlines() if "ERROR" in ln or "Error" in ln or "exception" in ln.lower()]
            return result("error", r, first_line("\n".join(err) or text))
        if scanned == 0:
            return result("nothing", r, "Scanned files: 0")
        return result("clean", r, f"{suspicious or 0} suspicious globals" + (": " + "; ".join(found) if found else ""))


class Modelscan(Tool):
    name = "modelscan"

    def command(self, path, tmp):
        return [self.exe, "scan", "-p", str(path), "-r", "json", "--show-skipped", "-o", os.path.join(tmp, "out.json")]

    def classify(self, r, tmp):
        try:
            with open(os.path.join(tmp, "out.json")) as f:
                rep = json.load(f)
        except (OSError, ValueError):
            rep = None
        if rep is None:
            return result("error", r, "no JSON report: " + first_line(r.out + r.err))
        issues = rep.get("issues") or []
        errors = rep.get("errors") or []
        scanned = (rep.get("summary", {}).get("scanned") or {}).get("total_scanned", 0)
        if issues:
            d = "; ".join(sorted({f"{i.get('severity')} {i.get('module')}.{i.get('operator')}" for i in issues}))
            return result("flagged", r, d)
        if r.rc == 3 or scanned == 0:
            skipped = rep.get("summary", {}).get("skipped", {})
            why = ""
            if isinstance(skipped, dict):
                files = skipped.get("skipped_files") or []
                if files:
                    why = ": " + "; ".join(sorted({str(s.get("description", ""))[:80] for s in files if isinstance(s, dict)}))
            return result("nothing", r, "nothing scanned" + why)
        if errors or r.rc == 2:
            return result("error", r, "; ".join(str(e.get("description", e))[:120] for e in errors) or first_line(r.out + r.err))
        return result("clean", r, f"scanned {scanned}")


class Fickling(Tool):
    name = "fickling"
    dir_mode = False

    def command(self, path, tmp):
        return [self.exe, "--check-safety", "--json-output", os.path.join(tmp, "out.json"), str(path)]

    def classify(self, r, tmp):
        # --json-output gets one JSON object per stacked pickle, written one after the other.
        reports = []
        try:
            with open(os.path.join(tmp, "out.json")) as f:
                text = f.read()
            dec, pos = json.JSONDecoder(), 0
            while True:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                if pos >= len(text):
                    break
                obj, pos = dec.raw_decode(text, pos)
                reports.append(obj)
        except (OSError, ValueError):
            pass
        unsafe = [x for x in reports if str(x.get("severity", "")).upper() not in ("LIKELY_SAFE", "")]
        detail = "; ".join(f"{x.get('severity')}: {first_line(str(x.get('analysis', '')), 160)}" for x in unsafe[:2])
        if "Traceback (most recent call last)" in r.err:
            # An uncaught exception also exits 1 (Python's default): a crash, not a verdict.
            lines = [ln for ln in r.err.strip().splitlines() if ln.strip()]
            return result("error", r, "crashed: " + (lines[-1][:200] if lines else ""))
        if r.rc == 1:
            return result("flagged", r, detail or first_line(r.err))
        if r.rc == 0:
            return result("clean", r, detail)
        return result("error", r, first_line(r.err) or first_line(r.out))


class Modelaudit(Tool):
    name = "modelaudit"

    def command(self, path, tmp):
        return [self.exe, "scan", "--format", "json", "--no-cache", "-o", os.path.join(tmp, "out.json"), str(path)]

    def classify(self, r, tmp):
        try:
            with open(os.path.join(tmp, "out.json")) as f:
                rep = json.load(f)
        except (OSError, ValueError):
            return result("error", r, "no JSON report: " + first_line(r.err + r.out))
        issues = rep.get("issues") or []
        sev = defaultdict(list)
        for i in issues:
            sev[str(i.get("severity", "")).lower()].append(str(i.get("message", ""))[:100])
        res = None
        if sev.get("critical") or sev.get("warning"):
            top = "critical" if sev.get("critical") else "warning"
            res = result("flagged", r, f"{top}: " + "; ".join(sorted(set(sev[top]))[:3]))
            res["severity"] = top
        elif rep.get("files_scanned", 0) == 0:
            res = result("nothing", r, "files_scanned 0")
        elif rep.get("has_errors") or r.rc == 2:
            msgs = sev.get("error", []) + sev.get("info", [])
            res = result("error", r, "; ".join(msgs[:3]) or first_line(r.err))
        else:
            res = result("clean", r, "; ".join(sorted(set(sev.get("info", [])))[:2]))
        return res


class Ckpt4j(Tool):
    name = "ckpt4j"
    VERDICT = {"safe": "clean", "review": "clean", "unsafe": "flagged", "incomplete": "error", "error": "error"}
    RC = {0: "safe", 1: "unsafe", 2: "incomplete", 3: "review"}

    def __init__(self, exe):
        super().__init__(exe)
        self.prefix = [exe]

    @staticmethod
    def resolve(launcher):
        """(command prefix, why-not). The repository's ./ckpt4j builds the project with Maven on first
        use or when sources changed; this harness never builds: for that launcher it runs the
        built classes directly (java -cp target/classes:<target/classpath.txt> io.ckpt4j.cli.Main),
        and leaves ckpt4j out if they are not there. Any other launcher is run as it is."""
        lp = Path(launcher)
        if not (lp.is_file() and os.access(lp, os.X_OK)):
            return None, f"no launcher at {launcher}"
        try:
            text = lp.read_text(errors="replace")
        except OSError:
            text = ""
        if "mvn" not in text:
            return [str(lp)], ""
        target = lp.resolve().parent / "target"
        cp = target / "classpath.txt"
        if not (cp.is_file() and (target / "classes").is_dir()):
            return None, (f"{launcher} would build the project first (no {cp}); build it yourself, "
                          "then rerun (this harness never starts Maven)")
        java = shutil.which("java") or "java"
        return [java, "-cp", f"{target / 'classes'}:{cp.read_text().strip()}", "io.ckpt4j.cli.Main"], ""

    def command(self, path, tmp):
        return self.prefix + ["scan", "--json", str(path)]

    @staticmethod
    def verdicts(doc):
        """Every "verdict" string anywhere in the JSON (the format is ckpt4j's; read loosely)."""
        found = []

        def walk(x):
            if isinstance(x, dict):
                v = x.get("verdict")
                if isinstance(v, str):
                    found.append(v.lower())
                for y in x.values():
                    walk(y)
            elif isinstance(x, list):
                for y in x:
                    walk(y)
        walk(doc)
        return found

    def classify(self, r, tmp):
        verdict = self.RC.get(r.rc)
        detail = ""
        order = ["unsafe", "incomplete", "error", "review", "safe"]
        try:
            doc = json.loads(r.out)
        except ValueError:
            doc = None
            detail = first_line(r.err or r.out)
        if doc is not None:
            # ckpt4j's format: {"verdict", "exit_code", "files": [{"path", "verdict", "format",
            # "findings": [{"kind", "verdict", ...}], "globals", "calls"}]}; read loosely otherwise.
            files = doc.get("files") if isinstance(doc, dict) else None
            if isinstance(files, list) and files:
                vs = [str(f.get("verdict", "")).lower() for f in files if isinstance(f, dict)]
                kinds = [str(x.get("kind")) for f in files if isinstance(f, dict)
                         for x in (f.get("findings") or []) if isinstance(x, dict) and x.get("kind")]
                fmt = "/".join(sorted({str(f.get("format")) for f in files if isinstance(f, dict) and f.get("format")}))
            else:
                vs = [str(doc.get("verdict", "")).lower()] if isinstance(doc, dict) else []
                kinds, fmt = [], ""
            if not any(v in order for v in vs):
                vs = self.verdicts(doc)
            vs = [v for v in order if v in vs]
            if vs:
                if verdict and vs[0] != verdict and not (vs[0] == "error" and verdict == "incomplete"):
                    detail = f"exit {r.rc} but JSON verdict {vs[0]}; "
                verdict = vs[0]
            detail += (f"[{fmt}] " if fmt else "") + ", ".join(sorted(set(kinds)))
        if verdict is None:
            return result("error", r, f"exit {r.rc}: " + first_line(r.err or r.out))
        res = result(self.VERDICT.get(verdict, "error"), r, f"{verdict}" + (f": {detail}" if detail.strip() else ""))
        res["verdict"] = verdict
        return res

    def available(self, probe_file, timeout):
        """(ok, why): ckpt4j is usable if `scan --json` on a known-safe file gives a verdict."""
        r = run(self.command(probe_file, None), max(timeout, 120))
        if r.timed_out:
            return False, "`ckpt4j scan` timed out on a safe file"
        if r.rc in self.RC:
            try:
                json.loads(r.out)
                return True, ""
            except ValueError:
                pass
        return False, f"`ckpt4j scan --json` exit {r.rc}: {first_line(r.err or r.out, 120)} (no scan command yet?)"


TOOL_CLASSES = {"picklescan": Picklescan, "modelscan": Modelscan, "fickling": Fickling,
                "modelaudit": Modelaudit, "ckpt4j": Ckpt4j}


def find_exe(name, venv):
    if venv:
        p = Path(venv) / "bin" / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return shutil.which(name)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
