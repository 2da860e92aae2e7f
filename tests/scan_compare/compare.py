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
import sys
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scanners import ALL_TOOLS, HERE, REPO, TOOL_CLASSES, Ckpt4j, find_exe  # noqa: E402
from tables import (MA_CRIT, PS_SUSP, class_table, derive, per_file_table, render,  # noqa: E402
                    summarize, summary_table)

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
