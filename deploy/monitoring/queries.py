"""Checks the alert rules and dashboards against a running Prometheus that
scrapes the whole system (deploy/monitoring/check.sh starts it):

- every rule expression and every dashboard panel query parses (the query API
  answers `success`);
- every metric a rule or a panel names exists in Prometheus (a query that
  returns nothing usually names a metric that does not exist, or no longer
  does: the check fails and names it);
- every panel query returns at least one series (a panel that would stay
  empty on a working system is wrong).

Alert expressions are not required to return series: on a healthy system
they must not. A panel's `rate()` needs two scrapes of a series that the
traffic created moments ago, so "no series" is asked again for up to
QUERIES_WAIT seconds (default 90) before it counts: a slow machine (a CI
runner) may simply not have scraped twice yet. Usage: queries.py
PROMETHEUS_URL RULES_YAML DASHBOARD_JSON...
"""

import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

PROM, RULES, DASHBOARDS = sys.argv[1], sys.argv[2], sys.argv[3:]
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "bool", "offset", "inf", "nan"}


def api(path, **params):
    url = f"{PROM}/api/v1/{path}?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def metric_names(expr):
    """The metric names a PromQL expression selects (a light scan, enough for
    our expressions: strings, label matchers, ranges and grouping removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        if re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


def panel_queries(path):
    with open(path) as f:
        board = json.load(f)
    for panel in board["panels"]:
        for t in panel.get("targets", []):
            # Grafana's variables, as Grafana would expand them.
            q = t["expr"].replace("$__rate_interval", "2m").replace("$__interval", "1m")
            yield f'{board["uid"]} / {panel["title"]}', q


def run_checks():
    """One pass: (problems that waiting cannot fix, problems it may, count)."""
    known = set(api("label/__name__/values")["data"])
    with open(RULES) as f:
        groups = yaml.safe_load(f)["groups"]
    recorded = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    hard, empty, checked = [], [], 0

    def check(what, expr, need_series):
        nonlocal checked
        checked += 1
        r = api("query", query=expr)
        if r.get("status") != "success":
            hard.append(f"{what}: does not parse: {r.get('error')}")
            return
        missing = sorted(n for n in metric_names(expr) if n not in known)
        if missing:
            hard.append(f"{what}: no such metric in Prometheus: {', '.join(missing)}")
        elif need_series and not r["data"]["result"]:
            empty.append(f"{what}: returns no series")

    for g in groups:
        for rule in g["rules"]:
            name = rule.get("alert") or rule.get("record")
            check(f"rule {name}", rule["expr"], need_series="record" in rule)
    for path in DASHBOARDS:
        for what, q in panel_queries(path):
            check(f"panel {what}", q, need_series=True)
    unknown = recorded - known
    if unknown:
        empty.append(f"recording rules never evaluated: {', '.join(sorted(unknown))}")
    return hard, empty, checked


def main():
    deadline = time.monotonic() + float(os.environ.get("QUERIES_WAIT", "90"))
    while True:
        hard, empty, checked = run_checks()
        if hard or not empty or time.monotonic() >= deadline:
            break
        time.sleep(5)
    problems = hard + empty
    for p in problems:
        print(p, file=sys.stderr)
    if empty:
        # What the scrapes looked like, so an empty panel can be told from a
        # target that was down or slow.
        for s in api("query", query="up")["data"]["result"]:
            job = s["metric"].get("job")
            print(f"  up{{job={job}}} = {s['value'][1]}", file=sys.stderr)
    print(f"{checked} queries checked against {PROM}: {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
