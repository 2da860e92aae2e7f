"""compare.py's tables: the summary per tool, the per-class and per-file breakdowns, text or
Markdown, and the two rows derived from the same runs."""
import re
from collections import OrderedDict, defaultdict


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
