#!/usr/bin/env python3
"""Assembles one bench run (called by bench/run.sh) into
bench/results/<STAMP>.json and .md, and prints the markdown table."""

import json
import math
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
freshness_lines = jsonl(run_dir / "freshness.jsonl")
district_lines = jsonl(run_dir / "district.jsonl")

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
    "dashboards": None,  # filled below
    "rss": rss,
    "rss_after_load_kib": {
        name: v["vm_rss_kib"] for name, v in (rss[-1]["services"].items() if rss else [])
    },
    "peak_rss_kib": {
        name: v["vm_hwm_kib"] for name, v in (rss[-1]["services"].items() if rss else [])
    },
}



# --- dashboards (issue 15) ---------------------------------------------------
# Targets of the "Done when"; every figure is reported next to its
# target with PASS / MISS (n/a when the part did not run).
DASH = ("dash_school", "dash_teacher", "student_summary")
TARGET_UNCACHED_P99_MS = 15.0
TARGET_CACHED_P99_MS = 5.0
TARGET_FLAT_RATIO = 1.25
TARGET_FRESH_P99_MS = 1000.0
TARGET_REBUILD_MS = 10_000


def pctl(values, p):
    """Nearest-rank percentile of a list (None if empty)."""
    v = sorted(values)
    if not v:
        return None
    return v[min(len(v) - 1, max(0, math.ceil(p / 100.0 * len(v)) - 1))]


def verdict(value, target):
    if value is None:
        return "n/a"
    return "PASS" if value <= target else "MISS"


def dash_run(scenario, phase, conns):
    for r in runs:
        if r["scenario"] == scenario and r.get("phase") == phase and r["connections"] == conns:
            return r
    return None


def dashboards_section():
    dash_runs = [r for r in runs if r.get("phase")]
    if not dash_runs and not district_lines and not freshness_lines:
        return None
    out = {"targets": {
        "uncached_p99_ms": TARGET_UNCACHED_P99_MS, "cached_p99_ms": TARGET_CACHED_P99_MS,
        "district_over_small_uncached_p50": TARGET_FLAT_RATIO,
        "mark_to_dashboard_p99_ms": TARGET_FRESH_P99_MS, "rebuild_ms": TARGET_REBUILD_MS}}
    phases = sorted({r["phase"] for r in dash_runs}, key=lambda p: p != "small")
    conns = sorted({r["connections"] for r in dash_runs})
    latency = []
    for phase in phases:
        for c in conns:
            for name in DASH:
                for cached in (True, False):
                    r = dash_run(name if cached else name + "_uncached", phase, c)
                    if not r:
                        continue
                    target = TARGET_CACHED_P99_MS if cached else TARGET_UNCACHED_P99_MS
                    p99 = r["latency_ms"]["p99"]
                    latency.append({
                        "scenario": r["scenario"], "phase": phase, "connections": c,
                        "rps": r["rps"], "p50_ms": r["latency_ms"]["p50"], "p99_ms": p99,
                        "errors": r["errors"]["total"], "target_p99_ms": target,
                        "result": verdict(p99, target) if not r["errors"]["total"] else "MISS (errors)",
                    })
    out["latency"] = latency
    flat = []
    for c in conns:
        for name in DASH:
            small = dash_run(name + "_uncached", "small", c)
            big = dash_run(name + "_uncached", "district", c)
            if small and big:
                ratio = big["latency_ms"]["p50"] / small["latency_ms"]["p50"]
                flat.append({"scenario": name, "connections": c,
                             "small_p50_ms": small["latency_ms"]["p50"],
                             "district_p50_ms": big["latency_ms"]["p50"], "ratio": round(ratio, 3),
                             "target": TARGET_FLAT_RATIO, "result": verdict(ratio, TARGET_FLAT_RATIO)})
    out["cost_flat_in_size"] = flat
    seeds = [l for l in district_lines if l.get("kind") == "seed"]
    rebuilds = [l for l in district_lines if l.get("kind") == "rebuild"]
    size = next((l for l in district_lines if l.get("kind") == "size"), None)
    first = next((r for r in rebuilds if r["phase"] == "small"), None)
    others = [r["rebuild_ms"] for r in rebuilds if r["phase"] == "district" and r.get("rebuild_ms")]
    out["data_set"] = {"seeds": seeds, "size": size}
    out["rebuild"] = {
        "school": first,
        "result": verdict(first and first.get("rebuild_ms"), TARGET_REBUILD_MS),
        "district_schools": len(others),
        "district_rebuild_ms_p50": pctl(others, 50), "district_rebuild_ms_max": max(others, default=None),
        "all": rebuilds,
    }
    out["freshness"] = freshness_section()
    out["consumer"] = consumer_section()
    return out


def windows():
    for r in records:
        w = r.get("phase_windows_ms")
        if w:
            return w
    return {}


def freshness_section():
    probes = [l for l in freshness_lines if l.get("kind") == "probe"]
    if not probes:
        return None
    w = windows()
    by = {}
    for name, (start, end) in w.items():
        by[name] = [p for p in probes if start <= p["at_ms"] <= end]
    by["whole_run"] = probes
    out = {}
    for name, ps in by.items():
        if not ps:
            continue
        inf = float("inf")
        both = [max(p["dashboard_ms"] or inf, p["summary_ms"] or inf) for p in ps]
        dash = [p["dashboard_ms"] or inf for p in ps]
        summ = [p["summary_ms"] or inf for p in ps]
        fin = lambda v: None if v is None or v == inf else round(v, 1)
        out[name] = {
            "probes": len(ps), "not_shown": sum(1 for b in both if b == inf),
            "p50_ms": fin(pctl(both, 50)), "p99_ms": fin(pctl(both, 99)), "max_ms": fin(max(both)),
            "dashboard_p99_ms": fin(pctl(dash, 99)), "summary_p99_ms": fin(pctl(summ, 99)),
            "mark_p50_ms": round(pctl([p["put_ms"] for p in ps], 50), 1),
        }
    paced = [p for k in ("attendance_paced", "attendance_staggered") for p in by.get(k, [])]
    if paced:
        inf = float("inf")
        p99 = pctl([max(p["dashboard_ms"] or inf, p["summary_ms"] or inf) for p in paced], 99)
        out["paced"] = {"probes": len(paced), "p99_ms": None if p99 == inf else round(p99, 1),
                        "target_ms": TARGET_FRESH_P99_MS,
                        "result": "MISS" if p99 == inf else verdict(p99, TARGET_FRESH_P99_MS)}
    return out


def consumer_section():
    """Consumer lag over the saturated records phase: the mean lag of the
    events applied in each second (diff of the histogram's sum and count),
    first third against last third: it keeps pace if the last third's mean
    is within 1.5x + 50 ms of the first's (a falling-behind consumer's lag
    grows with the backlog, second after second)."""
    samples = [l for l in freshness_lines if l.get("kind") == "lag"]
    w = windows().get("attendance")
    if len(samples) < 2 or not w:
        return None
    inside = [s for s in samples if w[0] - 1000 <= s["at_ms"] <= w[1] + 1000]
    series = []
    for a, b in zip(inside, inside[1:]):
        n = b["lag_count"] - a["lag_count"]
        series.append({"at_ms": b["at_ms"], "applied": n, "pending": b["pending"],
                       "mean_lag_ms": round((b["lag_sum_s"] - a["lag_sum_s"]) / n * 1000, 2) if n > 0 else None})
    lagged = [x for x in series if x["mean_lag_ms"] is not None]
    if len(lagged) < 3:
        return {"series": series, "result": "n/a"}
    third = max(1, len(lagged) // 3)
    first = sum(x["mean_lag_ms"] for x in lagged[:third]) / third
    last = sum(x["mean_lag_ms"] for x in lagged[-third:]) / third
    return {
        "window_ms": w, "seconds": len(series),
        "events_applied": sum(x["applied"] for x in series),
        "mean_lag_first_third_ms": round(first, 2), "mean_lag_last_third_ms": round(last, 2),
        "max_second_mean_lag_ms": max(x["mean_lag_ms"] for x in lagged),
        "pending_start": inside[0]["pending"], "pending_end": inside[-1]["pending"],
        "result": "PASS" if last <= 1.5 * first + 50 else "MISS",
        "series": series,
    }


doc["dashboards"] = dashboards_section()

# --- notifications (issue 17) ------------------------------------------------
TARGET_WS_RSS_MIB = 300.0
TARGET_WS_P99_MS = 100.0
TARGET_ANNOUNCE_ANSWER_MS = 50.0
TARGET_ANNOUNCE_SINK_S = 30.0
notify_lines = jsonl(run_dir / "notify.jsonl")
doc["notify"] = {
    "ws": next((l for l in notify_lines if l.get("kind") == "ws"), None),
    "announce": next((l for l in notify_lines if l.get("kind") == "announce"), None),
    "report_cards": next((l for l in notify_lines if l.get("scenario") == "report_cards"), None),
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
for r in sorted((r for r in runs if not r.get("phase")),
                key=lambda r: (r["connections"], r["scenario"] != "healthz")):
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
for c in sorted({r["connections"] for r in runs}):
    # Two gateways started alike but for the check; a scenario run several
    # times counts by its mean.
    def mean(name, c=c):
        v = [r["rps"] for r in runs if r["scenario"] == name and r["connections"] == c]
        return sum(v) / len(v) if v else None

    checked, unchecked = mean("get_student_checked"), mean("get_student_unchecked")
    if checked and unchecked:
        lines.append(
            f"Session revocation check (issue 19), cached get_student @{c}: {checked:.0f} rps "
            f"with it, {unchecked:.0f} rps without ({(checked / unchecked - 1) * 100:+.1f} %)"
        )
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
d = doc["dashboards"]
if d:
    lines += ["", "## Dashboards (issue 15)", ""]
    if d["latency"]:
        lines += [
            "| scenario | data set | connections | rps | p50 ms | p99 ms | errors | target p99 | result |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in d["latency"]:
            lines.append(
                f"| {r['scenario']} | {r['phase']} | {r['connections']} | {r['rps']:.0f} | "
                f"{fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {r['errors']} | "
                f"≤ {r['target_p99_ms']:.0f} ms | {r['result']} |"
            )
        lines.append("")
    for f in d["cost_flat_in_size"]:
        lines.append(
            f"Cost flat in size, {f['scenario']} uncached @{f['connections']}: p50 {fmt_ms(f['district_p50_ms'])} ms "
            f"at district scale / {fmt_ms(f['small_p50_ms'])} ms at one school = {f['ratio']:.2f}x "
            f"(target ≤ {TARGET_FLAT_RATIO}x): {f['result']}."
        )
    if not d["cost_flat_in_size"]:
        lines.append("Cost flat in size: n/a (run with BENCH_DISTRICT=1 for the district phase).")
    size = d["data_set"]["size"]
    if size:
        lines.append(
            f"District database at the end: {size['schools']} schools, {size['students']} students, "
            f"{size['attendance_rows']} attendance rows ({size['database_bytes'] / 2**30:.2f} GiB)."
        )
    for sd in d["data_set"]["seeds"]:
        lines.append(
            f"Seeded schools {sd['from']}..{sd['to']} ({sd['students_per_school']} students, "
            f"{sd['days']} school days each, seed {sd['seed']}) in {sd['seconds']:.1f} s."
        )
    rb = d["rebuild"]
    if rb["school"]:
        lines.append(
            f"Rebuild of one school ({rb['school']['school']}, {rb['school']['events']} events): "
            f"{rb['school']['rebuild_ms']} ms (CLI wall time {rb['school']['wall_ms']} ms; "
            f"target ≤ {TARGET_REBUILD_MS} ms): {rb['result']}."
        )
    if rb["district_schools"]:
        lines.append(
            f"Rebuilds of the other {rb['district_schools']} schools: p50 {rb['district_rebuild_ms_p50']} ms, "
            f"max {rb['district_rebuild_ms_max']} ms."
        )
    fr = d["freshness"]
    if fr:
        for name, v in fr.items():
            if name == "paced":
                continue
            lines.append(
                f"Freshness during {name.replace('_', ' ')}: {v['probes']} marks, mark-to-dashboard "
                f"(both views) p50 {v['p50_ms']} ms, p99 {v['p99_ms']} ms, max {v['max_ms']} ms "
                f"(admin dashboard p99 {v['dashboard_p99_ms']} ms, student summary p99 "
                f"{v['summary_p99_ms']} ms; the mark itself p50 {v['mark_p50_ms']} ms); "
                f"{v['not_shown']} not shown in time."
            )
        pv = fr.get("paced")
        if pv:
            lines.append(
                f"Freshness while the paced records load runs: p99 {pv['p99_ms']} ms over {pv['probes']} marks "
                f"(target ≤ {TARGET_FRESH_P99_MS:.0f} ms): {pv['result']}."
            )
    else:
        lines.append("Freshness: n/a (runs with the records scenario, BENCH_FRESHNESS=1).")
    co = d["consumer"]
    if co and co.get("result") != "n/a":
        lines.append(
            f"Consumer under the saturated records load ({co['seconds']} s, {co['events_applied']:.0f} events "
            f"applied): mean lag {co['mean_lag_first_third_ms']} ms in the first third, "
            f"{co['mean_lag_last_third_ms']} ms in the last (worst second {co['max_second_mean_lag_ms']} ms); "
            f"pending {co['pending_start']:.0f} → {co['pending_end']:.0f}; lag does not grow: {co['result']}."
        )
    elif freshness_lines:
        lines.append("Consumer lag: n/a (not enough samples in the saturated phase).")

def notify_lines_md():
    ws, an, rc = doc["notify"]["ws"], doc["notify"]["announce"], doc["notify"]["report_cards"]
    if not ws and not an and not rc:
        return ["", "Notifications: n/a (BENCH_NOTIFY=1 runs them)."]
    out = ["", "## Notifications (issue 17)", ""]
    if ws:
        rss_kib = ws.get("gateway_hwm_kib_end") or ws.get("gateway_rss_kib_open")
        rss_mib = rss_kib / 1024 if rss_kib else None
        p99 = ws.get("latency_ms_p99")
        out.append(
            f"{ws['sockets_open']} of {ws['sockets_requested']} WebSocket connections open on one gateway "
            f"(in {ws['open_seconds']:.1f} s): gateway peak RSS "
            + (f"{rss_mib:.1f} MiB" if rss_mib else "n/a")
            + f" (target ≤ {TARGET_WS_RSS_MIB:.0f}: {verdict(rss_mib, TARGET_WS_RSS_MIB) if rss_mib else 'n/a'}); "
            f"push to one user p50 {ws.get('latency_ms_p50') or 0:.2f} ms, p99 {p99 or 0:.2f} ms "
            f"(target ≤ {TARGET_WS_P99_MS:.0f}: {verdict(p99, TARGET_WS_P99_MS) if p99 is not None else 'n/a'}), "
            f"{ws['pushes_lost']} of {ws['pushes']} lost."
        )
    if an:
        sink = an.get("all_at_sink_seconds")
        out.append(
            f"Announcement to {an['recipients']} guardians: 202 in {an['answer_ms']:.1f} ms "
            f"(target ≤ {TARGET_ANNOUNCE_ANSWER_MS:.0f}: {verdict(an['answer_ms'], TARGET_ANNOUNCE_ANSWER_MS)}); "
            f"all e-mails at the SMTP sink after "
            + (f"{sink:.2f} s" if sink is not None else "(not reached)")
            + f" (target ≤ {TARGET_ANNOUNCE_SINK_S:.0f}: "
            + (verdict(sink, TARGET_ANNOUNCE_SINK_S) if sink is not None else "MISS")
            + f"); {an.get('mails_at_sink')} mails counted, {an.get('email_failed')} failed."
        )
    if rc:
        out.append(
            f"Report cards for a grade of {rc['cards']} students in one request: answered in "
            f"{rc['request_ms']:.1f} ms, every card rendered after {rc['grade_end_to_end_secs']:.2f} s "
            f"({rc['ready']} ready, {rc['failed']} failed); render time per card p50 {rc['render_ms_p50']} ms, "
            f"p90 {rc['render_ms_p90']} ms, max {rc['render_ms_max']} ms (the issue sets no target)."
        )
    return out


lines.extend(notify_lines_md())
md = "\n".join(lines) + "\n"
(results / f"{stamp}.md").write_text(md)
print(md)
