#!/usr/bin/env python3
"""Assembles one bench run (called by bench/run.sh) into
bench/results/<STAMP>.json and .md, and prints the markdown table."""

import json
import os
import platform
import subprocess
from pathlib import Path

env = os.environ
stamp = env["STAMP"]
run_dir = Path(env["RUN_DIR"])
results = Path(env["RESULTS"])
root = Path(__file__).resolve().parent.parent


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001 - machine info is best effort
        return ""


def jsonl(path):
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def mem_total_kib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


runs = jsonl(run_dir / "wrk.jsonl")
rss = jsonl(run_dir / "rss.jsonl")

seed = {}
seed_path = Path(env["WORK"]) / "seed.json"
if seed_path.exists():
    s = json.loads(seed_path.read_text())
    seed = {
        k: s.get(k)
        for k in ("schools_requested", "students_per_school", "seeded_at", "seed_students_created",
                  "seed_seconds", "seed_students_per_sec", "seed_concurrency")
    }
    seed["deep_cursor_pages"] = {
        x["slug"]: x["deep_cursor_page"] for x in s.get("schools", []) if x.get("deep_cursor")
    }
seed_log = (run_dir / "seed.log").read_text() if (run_dir / "seed.log").exists() else ""
seed["reused_this_run"] = " reused " in seed_log

ceiling = {r["connections"]: r["rps"] for r in runs if r["scenario"] == "healthz"}
for r in runs:
    c = ceiling.get(r["connections"])
    r["ratio_to_ceiling"] = round(r["rps"] / c, 4) if c else None

records = jsonl(run_dir / "records.jsonl")

git_status = sh("git", "status", "--porcelain")
doc = {
    "timestamp": stamp,
    "machine": {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "mem_total_kib": mem_total_kib(),
        "kernel": platform.release(),
        "wrk": sh("wrk", "-v").splitlines()[0] if sh("wrk", "-v") else "",
        "rustc": sh("rustc", "--version"),
    },
    "git": {"rev": sh("git", "rev-parse", "HEAD"), "dirty": bool(git_status)},
    "config": {
        "duration_s": int(env["DURATION"]),
        "warmup_s": int(env["WARMUP"]),
        "wrk_threads": int(env["THREADS"]),
        "wrk_timeout": env["TIMEOUT"],
        "schools": int(env["SCHOOLS"]),
        "students": int(env["STUDENTS"]),
        "note": "wrk runs on the same machine as the services and Postgres",
    },
    "seed": seed,
    "runs": runs,
    "records": records,
    "rss": rss,
    "rss_after_load_kib": {
        name: v["vm_rss_kib"] for name, v in (rss[-1]["services"].items() if rss else [])
    },
    "peak_rss_kib": {
        name: v["vm_hwm_kib"] for name, v in (rss[-1]["services"].items() if rss else [])
    },
}

results.mkdir(parents=True, exist_ok=True)
(results / f"{stamp}.json").write_text(json.dumps(doc, indent=2) + "\n")


def fmt_ms(v):
    return f"{v:.2f}"


lines = [
    f"# Bench {stamp}",
    "",
    f"{doc['machine']['nproc']} × {doc['machine']['cpu_model']}; git {doc['git']['rev'][:12]}"
    + (" (dirty)" if doc["git"]["dirty"] else "")
    + f"; {doc['config']['duration_s']} s per run after {doc['config']['warmup_s']} s warm-up, "
    f"wrk {doc['config']['wrk_threads']} threads on the same machine; "
    f"{doc['config']['schools']} schools, {doc['config']['students']} students.",
    "",
    "| scenario | connections | rps | p50 ms | p95 ms | p99 ms | errors | rps / ceiling |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]
for r in sorted(runs, key=lambda r: (r["connections"], r["scenario"] != "healthz")):
    e = r["errors"]
    err = str(e["total"])
    if e["total"]:
        parts = [f"{k} {e[k]}" for k in ("connect", "read", "write", "timeout", "status") if e[k]]
        err += " (" + ", ".join(parts) + ")"
    ratio = r["ratio_to_ceiling"]
    lines.append(
        f"| {r['scenario']} | {r['connections']} | {r['rps']:.0f} | {fmt_ms(r['latency_ms']['p50'])} | "
        f"{fmt_ms(r['latency_ms']['p95'])} | {fmt_ms(r['latency_ms']['p99'])} | {err} | "
        + (f"{ratio:.3f}" if ratio is not None else "n/a")
        + " |"
    )
lines.append("")
for r in runs:
    if "cache" in r:
        c, k = r["cache"], r["consistency"]
        lines.append(
            f"{r['scenario']} @{r['connections']}: Zipf s={c['zipf_s']} over {c['population']} students, "
            f"{c['write_share']:.0%} writes ({c['writes']} writes, {c['conflicts']} version conflicts); "
            f"hit rate {c['hit_rate']:.1%} ({c['hits']} hits, {c['misses']} misses, {c['bypasses']} bypasses); "
            f"stale reads for writers: {k['stale_reads']} of {k['writer_reads_checked']} checked."
        )
for r in records:
    a, i, o = r["attendance"], r["import"], r["outbox"]
    lag = lambda v: "n/a" if v is None else f"≤ {v * 1000:.0f} ms"
    for key, how in (("attendance_paced", "all at the same instant"),
                     ("attendance_staggered", "spread over the period")):
        p = r.get(key)
        if p:
            lines.append(
                f"records: paced attendance, {p['teachers']} teachers each starting a session every "
                f"{p['pace_ms']} ms, {how}: {p['rps']:.0f} sessions/s, p50 {fmt_ms(p['latency_ms']['p50'])} ms, "
                f"p95 {fmt_ms(p['latency_ms']['p95'])} ms, p99 {fmt_ms(p['latency_ms']['p99'])} ms, "
                f"{p['errors']} errors."
            )
    lines.append(
        f"records: bulk attendance, {a['teachers']} teachers marking sessions of {a['class_size']} back to back: "
        f"{a['rps']:.0f} sessions/s, p50 {fmt_ms(a['latency_ms']['p50'])} ms, "
        f"p95 {fmt_ms(a['latency_ms']['p95'])} ms, p99 {fmt_ms(a['latency_ms']['p99'])} ms, "
        f"{a['errors']} errors; import of {i['rows']} rows ({i['bytes'] / 1e6:.1f} MB) in "
        f"{i['seconds']:.2f} s ({i['rows_per_sec']:.0f} rows/s); outbox: {o['events_published']:.0f} "
        f"events published, lag p50 {lag(o['lag_p50_s_at_most'])}, p99 {lag(o['lag_p99_s_at_most'])} "
        "(histogram bucket bounds)."
    )
    for phase, v in (r.get("outbox_phases") or {}).items():
        if v:
            lines.append(
                f"records: outbox lag during {phase.replace('_', ' ')}: {v['events_published']:.0f} events, "
                f"p50 {lag(v['lag_p50_s_at_most'])}, p99 {lag(v['lag_p99_s_at_most'])}."
            )
cached = {(r["scenario"], r["connections"]): r["rps"] for r in runs}
for name in ("get_student", "list_first"):
    for c in sorted({r["connections"] for r in runs}):
        hot, cold = cached.get((name, c)), cached.get((name + "_uncached", c))
        if hot and cold:
            lines.append(f"{name} @{c}: cached / uncached = {hot / cold:.2f}x")
lines.append("")
if seed.get("seed_students_per_sec"):
    lines.append(
        f"Seed: {seed.get('seed_students_created')} students created at "
        f"{seed['seed_students_per_sec']:.0f} students/s "
        f"({seed.get('seed_concurrency')} in flight, {seed.get('seeded_at')})"
        + ("; reused this run." if seed["reused_this_run"] else ".")
    )
if doc["rss_after_load_kib"]:
    lines.append("")
    lines.append(
        "RSS after load (peak): "
        + ", ".join(
            f"{n} {v / 1024:.1f} MiB ({doc['peak_rss_kib'][n] / 1024:.1f})"
            for n, v in sorted(doc["rss_after_load_kib"].items())
        )
    )
md = "\n".join(lines) + "\n"
(results / f"{stamp}.md").write_text(md)
print(md)
