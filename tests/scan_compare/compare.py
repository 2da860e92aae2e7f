#!/usr/bin/env python3
"""Runs the public pickle scanners and `ckpt4j scan` on one corpus and prints them side by side.

Not part of `mvn verify`. Standard library only: run it with any Python 3.9+; the scanners come
from their own venv (tests/scan_compare/build_scanners.sh), ckpt4j from its launcher.

    python3 tests/scan_compare/compare.py CORPUS_DIR [CORPUS_DIR...]
        [--manifest FILE]          default CORPUS_DIR/manifest.json (with one CORPUS_DIR only)
        [--scanners-venv DIR]      default $SCANNERS_VENV, else tests/scan_compare/.venv; a tool
                                   not found there is looked up on PATH; one found nowhere is left
                                   out (and said so)
        [--ckpt4j LAUNCHER]        default ./ckpt4j at the repository root; left out if absent,
                                   not built (the repository's launcher is never allowed to start
                                   its Maven build: its built classes are run directly), or
                                   without a `scan` command yet
        [--tools a,b,...]          subset of picklescan,modelscan,fickling,modelaudit,ckpt4j
        [--timeout SECONDS]        per file and tool, default 30 (a timeout is its own column)
        [--jobs N]                 files scanned in parallel, default 1 (timings are only
                                   comparable with 1)
        [--no-dir-run]             skip the extra timing of one run per tool over the whole corpus
                                   (limit: 4 x --timeout, at least 60 s)
        [--per-file]               also print one line per file (the outcome of every tool)
        [--markdown]               print the tables as Markdown (for the README)
        [--json-out FILE]          write every per-file result (outcome, exit code, detail, time)
        [--from-json FILE]...      print the tables of saved runs, merging their tools (runs nothing)

Manifest: a JSON list of {"file": path relative to CORPUS_DIR, "expect": "safe"|"review"|"unsafe",
"class": short name of the trick, or "benign"} (other keys are ignored), or the format
tests/python/make_scan.py writes: {"cases": [{"name", "file", "verdict", ...}]}, where the verdict
is the expectation (incomplete counts as unsafe) and the name is the class. Several corpus
directories make one table (files named DIRNAME/FILE): e.g. make_scan.py's tricks, which hold
one benign file, next to the provisional corpus's real-world files for the false positives.

Each tool's run on one file ends in one outcome:
  flagged   the tool says the file is dangerous
  clean     the tool scanned the file and found nothing (ckpt4j: safe or review)
  nothing   the tool scanned nothing in it (modelscan exit 3 "no supported files",
            picklescan "Scanned files: 0", ModelAudit files_scanned 0)
  error     the tool failed on the file (ckpt4j: incomplete or error, exit 2)
  timeout   the tool ran longer than --timeout
How each tool's real output maps onto those (read from the sources at the commits
build_scanners.sh pins):
  picklescan  `picklescan -p FILE`: "Dangerous globals: N" on stdout, N > 0 is flagged (also when
              it exits 2 for a partial parse, as the hub's UI does); exit 2 otherwise is error;
              "Scanned files: 0" is nothing. Its "suspicious" globals (not flagged by default)
              are kept in the detail; the row "picklescan (+suspicious)" counts them as flagged
              too (what its --strict mode would do).
  modelscan   `modelscan scan -p FILE -r json --show-skipped -o OUT` in an empty working directory (so no
              modelscan-settings.toml is picked up): any entry in "issues" is flagged; exit 3 or
              total_scanned 0 is nothing; "errors" or exit 2 is error; exit 0 clean.
  fickling    `fickling --check-safety --json-output OUT FILE`: exit 1 flagged (severity above
              LIKELY_SAFE for one of the stacked pickles), 2 error (it could not parse the file as
              a pickle: most zip checkpoints), 0 clean; an exit 1 with a Python traceback on stderr
              (an uncaught exception, e.g. "TODO: Add support for Pickle opcode PERSID" on a zip
              whose bytes happen to parse as a pickle) is error, not flagged.
  modelaudit  `modelaudit scan --format json --no-cache -o OUT FILE` (telemetry off): an issue of
              severity critical or warning is flagged (its own exit 1 rule); the row
              "modelaudit (critical only)" counts critical issues only; files_scanned 0 is nothing;
              has_errors or exit 2 without such an issue is error.
  ckpt4j      `ckpt4j scan --json FILE`: exit 1 (unsafe) flagged, 0 (safe) and 3 (review) clean,
              2 (incomplete or error) error; the verdict from the JSON, where there is one, goes in
              the detail and wins over the exit code if they disagree.

Summary columns: caught = unsafe files flagged; missed = unsafe files clean or nothing scanned
(how many of them were "nothing" in brackets); FP = safe or review files flagged; errors and
timeouts split by unsafe / benign (a service that refuses what fails to scan blocks the unsafe
ones too: "blocked" = caught + errors + timeouts on unsafe files); time = the sum of the per-file
runs (one process per file, startup included) and, unless --no-dir-run, one run of the tool over
the whole corpus directory (fickling has no directory mode).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict, defaultdict
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

def summarize(rows, results, tool_names, dir_times):
    summary = OrderedDict()
    for t in tool_names:
        s = defaultdict(int)
        s["time"] = 0.0
        for row in rows:
            res = results[t].get(row["file"])
            if res is None:
                continue
            s["time"] += res["secs"]
            o = res["outcome"]
            if row["expect"] == "unsafe":
                s["unsafe"] += 1
                key = {"flagged": "caught", "clean": "missed", "nothing": "missed",
                       "error": "err_unsafe", "timeout": "to_unsafe"}[o]
                s[key] += 1
                if o == "nothing":
                    s["nothing"] += 1
            else:
                s["benign"] += 1
                key = {"flagged": "fp", "clean": "ok", "nothing": "ok_nothing",
                       "error": "err_benign", "timeout": "to_benign"}[o]
                s[key] += 1
        s["blocked"] = s["caught"] + s["err_unsafe"] + s["to_unsafe"]
        s["dir_time"] = dir_times.get(t)
        summary[t] = s
    return summary


def fmt_time(x):
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return f"{x:.1f} s"


def summary_table(summary, n_unsafe, n_benign):
    head = ["tool", f"caught (of {n_unsafe} unsafe)", "missed [nothing scanned]",
            f"false positives (of {n_benign} safe/review)", "errors unsafe / benign",
            "timeouts unsafe / benign", "blocked if errors refuse", "time, per-file runs", "time, one dir run"]
    body = []
    for t, s in summary.items():
        body.append([t, str(s["caught"]), f"{s['missed']} [{s['nothing']}]", str(s["fp"]),
                     f"{s['err_unsafe']} / {s['err_benign']}", f"{s['to_unsafe']} / {s['to_benign']}",
                     str(s["blocked"]), fmt_time(s["time"]), fmt_time(s["dir_time"])])
    return head, body


def class_table(rows, results, tool_names):
    classes = OrderedDict()
    for row in sorted(rows, key=lambda r: (r["expect"] != "unsafe", r["class"])):
        classes.setdefault((row["expect"] == "unsafe", row["class"]), []).append(row)
    head = ["class", "expect", "n"] + list(tool_names)
    body = []
    for (unsafe, cls), members in classes.items():
        expects = "/".join(sorted({m["expect"] for m in members}))
        line = [cls, expects, str(len(members))]
        for t in tool_names:
            outs = [results[t][m["file"]]["outcome"] for m in members if m["file"] in results[t]]
            if not outs:
                line.append("-")
                continue
            c = defaultdict(int)
            for o in outs:
                c[o] += 1
            extra = ", ".join(f"{c[k]} {lbl}" for k, lbl in (("nothing", "nothing"), ("error", "err"),
                                                             ("timeout", "timeout")) if c[k])
            if unsafe:
                cell = f"{c['flagged']}/{len(outs)}"
                if c["flagged"] == len(outs):
                    cell += " ok"
                elif extra:
                    cell += f" ({extra})"
            else:
                if c["flagged"] == 0 and not extra:
                    cell = "ok"
                else:
                    cell = ", ".join(x for x in (f"{c['flagged']} FP" if c["flagged"] else "", extra) if x)
            line.append(cell)
        body.append(line)
    return head, body


def per_file_table(rows, results, tool_names):
    abbrev = {"flagged": "FLAG", "clean": "-", "nothing": "nothing", "error": "ERR", "timeout": "TIMEOUT"}
    head = ["file", "expect", "class"] + list(tool_names)
    body = []
    for row in rows:
        line = [row["file"], row["expect"], row["class"]]
        for t in tool_names:
            res = results[t].get(row["file"])
            cell = abbrev[res["outcome"]] if res else "?"
            if t == "ckpt4j" and res and res.get("verdict"):
                cell = res["verdict"]
            line.append(cell)
        body.append(line)
    return head, body


def render(head, body, markdown):
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in body]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = lambda line: "  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(line) for line in body])


# ---------------------------------------------------------------------------------------------

MA_CRIT = "modelaudit (critical only)"
PS_SUSP = "picklescan (+suspicious)"


def derive(results, tool_names):
    """Adds two rows computed from the same runs (idempotent):
    - "modelaudit (critical only)": ModelAudit counting its critical issues only;
    - "picklescan (+suspicious)": picklescan counting its "suspicious" globals as well (what its
      --strict mode promotes to dangerous; e.g. builtins.print, make_scan.py's payload)."""
    tool_names = list(tool_names)
    if "modelaudit" in results and MA_CRIT not in tool_names:
        crit = {}
        for f, res in results["modelaudit"].items():
            res2 = dict(res)
            if res.get("outcome") == "flagged" and res.get("severity") != "critical":
                res2["outcome"] = "clean"
                res2["detail"] = "(warning only) " + res["detail"]
            crit[f] = res2
        results[MA_CRIT] = crit
        tool_names.insert(tool_names.index("modelaudit") + 1, MA_CRIT)
    if "picklescan" in results and PS_SUSP not in tool_names:
        susp = {}
        for f, res in results["picklescan"].items():
            res2 = dict(res)
            m = re.match(r"(\d+) suspicious globals", res.get("detail", ""))
            if res.get("outcome") == "clean" and m and int(m.group(1)) > 0:
                res2["outcome"] = "flagged"
            susp[f] = res2
        results[PS_SUSP] = susp
        tool_names.insert(tool_names.index("picklescan") + 1, PS_SUSP)
    return tool_names


def load_manifest(corpus, manifest, prefix):
    """Rows {"file", "path", "expect", "class", ...} from either manifest format:
    a list of {"file", "expect", "class"} (provisional_corpus.py), or make_scan.py's
    {"cases": [{"name", "file", "verdict", "finding", "what", ...}]}, where "verdict" is what
    ckpt4j must say (incomplete counts as unsafe: a scanner should refuse the file) and the case
    name is the class."""
    doc = json.loads(manifest.read_text())
    if isinstance(doc, dict) and "cases" in doc:
        raw = []
        for c in doc["cases"]:
            v = c.get("verdict")
            raw.append(dict(c, expect="unsafe" if v == "incomplete" else v, expect_verdict=v,
                            **{"class": c.get("class") or c.get("name") or "?"}))
    elif isinstance(doc, list):
        raw = doc
    else:
        sys.exit(f"{manifest}: neither a list of files nor {{'cases': [...]}}")
    rows = []
    for row in raw:
        row = dict(row)
        if row.get("expect") not in ("safe", "review", "unsafe"):
            sys.exit(f"{manifest}: {row.get('file')}: expect must be safe, review or unsafe, not {row.get('expect')!r}")
        path = corpus / row["file"]
        if not path.is_file():
            sys.exit(f"{manifest}: {row['file']} is not a file under {corpus}")
        row["path"] = str(path)
        row["file"] = prefix + row["file"]
        row.setdefault("class", "benign" if row["expect"] != "unsafe" else "?")
        rows.append(row)
    return rows


def measure(args):
    corpora = [Path(c).resolve() for c in args.corpus]
    if args.manifest and len(corpora) > 1:
        sys.exit("--manifest goes with one corpus directory only")
    rows = []
    for c in corpora:
        manifest = Path(args.manifest) if args.manifest else c / "manifest.json"
        rows += load_manifest(c, manifest, (c.name + "/") if len(corpora) > 1 else "")
    corpus = " + ".join(str(c) for c in corpora)

    notes = []
    tools = OrderedDict()
    for name in [t.strip() for t in args.tools.split(",") if t.strip()]:
        if name not in TOOL_CLASSES:
            sys.exit(f"unknown tool {name}; known: {', '.join(ALL_TOOLS)}")
        if name == "ckpt4j":
            exe = args.ckpt4j
            prefix, why = Ckpt4j.resolve(exe)
            if prefix is None:
                notes.append(f"ckpt4j: left out, {why}")
                continue
            tool = Ckpt4j(exe)
            tool.prefix = prefix
            probe = next((r["path"] for r in rows if r["expect"] == "safe"), rows[0]["path"])
            ok, why = tool.available(probe, args.timeout)
            if not ok:
                notes.append(f"ckpt4j: left out, {why}")
                continue
            tools[name] = tool
            continue
        exe = find_exe(name, args.scanners_venv)
        if exe is None:
            notes.append(f"{name}: left out, not installed (looked in {args.scanners_venv}/bin and PATH)")
            continue
        tools[name] = TOOL_CLASSES[name](exe)
    if not tools:
        sys.exit("no tool to run: " + "; ".join(notes))

    versions = Path(args.scanners_venv) / "SCANNERS.txt"
    header = [f"corpus {corpus}: {len(rows)} files, "
              + ", ".join(f"{sum(r['expect'] == k for r in rows)} {k}" for k in ("unsafe", "safe", "review"))
              + f"; per-file timeout {args.timeout:g} s; jobs {args.jobs}"]
    if versions.is_file():
        header += [ln for ln in versions.read_text().splitlines()
                   if ln.split(" ", 1)[0] in tools or ln.startswith("#")]
    for name, tool in tools.items():
        if name == "ckpt4j" and tool.prefix != [tool.exe]:
            header.append(f"ckpt4j: {tool.exe}, run as {tool.prefix[0]} -cp {tool.prefix[2].split(':')[0]}:... {tool.prefix[3]}")
        else:
            header.append(f"{name}: {tool.exe}")

    results = {t: {} for t in tools}
    tasks = [(t, row) for row in rows for t in tools]
    done = 0

    def one(task):
        t, row = task
        return t, row["file"], tools[t].scan(row["path"], args.timeout)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for t, f, res in ex.map(one, tasks):
            results[t][f] = res
            done += 1
            if sys.stderr.isatty():
                print(f"\r{done}/{len(tasks)} {t:10s} {f[:60]:60s}", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)

    tool_names = derive(results, list(tools))

    dir_times = {}
    if not args.no_dir_run:
        for name, tool in tools.items():
            if not tool.dir_mode:
                dir_times[name] = "no dir mode"
                continue
            secs, limit = 0.0, max(4 * args.timeout, 60)
            for c in corpora:
                r = tool.scan_dir(c, limit)
                if r.timed_out:
                    secs = f"timeout (> {limit:g} s)"
                    break
                secs += r.secs
            dir_times[name] = secs
    return corpus, header, notes, rows, results, tool_names, dir_times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="*")
    ap.add_argument("--manifest")
    ap.add_argument("--scanners-venv", default=os.environ.get("SCANNERS_VENV", str(HERE / ".venv")))
    ap.add_argument("--ckpt4j", default=str(REPO / "ckpt4j"))
    ap.add_argument("--tools", default=",".join(ALL_TOOLS))
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-dir-run", action="store_true")
    ap.add_argument("--per-file", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json-out")
    ap.add_argument("--from-json", action="append",
                    help="print the tables of a run saved with --json-out (runs nothing); repeat it to "
                         "merge runs of different tools over the same files")
    args = ap.parse_args()
    if args.from_json:
        # One saved run, or several over the same files (e.g. the scanners in one run, ckpt4j in
        # another): their tools are merged into one table.
        corpus, header, notes, tool_names, dir_times, rows, results = None, [], [], [], {}, None, {}
        for fj in args.from_json:
            saved = json.loads(Path(fj).read_text())
            these = [{k: v for k, v in f.items() if k != "results"} for f in saved["files"]]
            if rows is None:
                corpus, rows = saved["corpus"], these
            elif sorted(r["file"] for r in these) != sorted(r["file"] for r in rows):
                sys.exit(f"{fj}: not the same files as {args.from_json[0]}")
            header += [h for h in saved["header"] if h not in header]
            notes += [n for n in saved["notes"] if n not in notes]
            for t in saved["tool_names"]:
                if t not in tool_names:
                    tool_names.append(t)
                    results[t] = {f["file"]: f["results"][t] for f in saved["files"] if f["results"].get(t)}
            dir_times.update(saved["dir_times"])
        notes = [n for n in notes if n.split(":", 1)[0] not in tool_names]
        order = {t: i for i, t in enumerate(ALL_TOOLS)}
        tool_names.sort(key=lambda t: order.get(t.split(" ")[0], len(order)))
        tool_names = derive(results, [t for t in tool_names if t not in (MA_CRIT, PS_SUSP)])
    elif args.corpus:
        corpus, header, notes, rows, results, tool_names, dir_times = measure(args)
    else:
        ap.error("give a corpus directory (or --from-json FILE)")

    n_unsafe = sum(r["expect"] == "unsafe" for r in rows)
    summary = summarize(rows, results, tool_names, dir_times)
    md = args.markdown
    print("\n".join(("    " if md else "") + h for h in header))
    for n in notes:
        print(("    " if md else "") + "note: " + n)
    print()
    print(render(*summary_table(summary, n_unsafe, len(rows) - n_unsafe), md))
    print()
    print("Per class (unsafe: flagged/n; safe and review: false positives):" if not md else
          "Per class (unsafe classes: flagged/n; safe and review classes: false positives):")
    print()
    print(render(*class_table(rows, results, tool_names), md))
    if "ckpt4j" in results:
        agree, differ = 0, []
        for row in rows:
            res = results["ckpt4j"].get(row["file"])
            if not res:
                continue
            want = row.get("expect_verdict") or row["expect"]
            got = res.get("verdict") or res["outcome"]
            ok = got == want or (want == "unsafe" and got == "incomplete" and not row.get("expect_verdict"))
            if ok:
                agree += 1
            else:
                differ.append(f"{row['file']} ({want} expected, {got})")
        print()
        print(f"ckpt4j verdict as the manifest expects on {agree}/{agree + len(differ)} files"
              + (" (unsafe or incomplete for unsafe files)" if not any(r.get("expect_verdict") for r in rows) else ""))
        for d in differ:
            print(("- " if md else "  ") + d)
    if args.per_file:
        print()
        print(render(*per_file_table(rows, results, tool_names), md))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(
            {"corpus": str(corpus), "header": header, "notes": notes, "tool_names": tool_names,
             "dir_times": dir_times,
             "summary": {t: dict(s) for t, s in summary.items()},
             "files": [dict(row, results={t: results[t].get(row["file"]) for t in tool_names}) for row in rows]},
            indent=1) + "\n")


if __name__ == "__main__":
    main()
