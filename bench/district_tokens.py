#!/usr/bin/env python3
"""Signs in to the district schools (bench/run.sh, dashboards phase) and writes
what the dashboard wrk scripts read, in the directory given as argv[2]:

  tokens.txt          one admin bearer token per school (schools.txt order)
  student_ids.txt     "<school line in tokens.txt> <student id>" (students.txt)
  teacher_tokens.txt  one teacher bearer token per line, the first
                      BENCH_DASH_TEACHERS (10) teachers of every school

Input (written by students-svc's bench_district example): schools.txt
("slug id"), students.txt ("slug id"), teachers.txt ("slug e-mail").
Usage: district_tokens.py <gateway base URL> <dir>
"""

import json
import os
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PASSWORD = "bench-district-password-1"  # students-svc/examples/bench_district.rs


def login(base, slug, email):
    body = json.dumps({"school": slug, "email": email, "password": PASSWORD}).encode()
    req = urllib.request.Request(
        f"{base}/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["access_token"]


def pairs(path):
    return [tuple(l.split(" ", 1)) for l in path.read_text().splitlines() if l.strip()]


def main():
    base, out = sys.argv[1], Path(sys.argv[2])
    per_school = int(os.environ.get("BENCH_DASH_TEACHERS", "10"))
    schools = [slug for slug, _ in pairs(out / "schools.txt")]
    line = {slug: n + 1 for n, slug in enumerate(schools)}
    teachers = {}
    for slug, email in pairs(out / "teachers.txt"):
        if len(teachers.setdefault(slug, [])) < per_school:
            teachers[slug].append(email)
    # argon2 is slow on purpose: a few sign-ins at a time.
    with ThreadPoolExecutor(4) as pool:
        admins = list(pool.map(lambda s: login(base, s, f"admin@{s}.bench.test"), schools))
        jobs = [(s, e) for s in schools for e in teachers.get(s, [])]
        teacher_tokens = list(pool.map(lambda j: login(base, *j), jobs))
    (out / "tokens.txt").write_text("".join(t + "\n" for t in admins))
    (out / "teacher_tokens.txt").write_text("".join(t + "\n" for t in teacher_tokens))
    (out / "student_ids.txt").write_text(
        "".join(f"{line[s]} {i}\n" for s, i in pairs(out / "students.txt") if s in line)
    )
    print(
        f"district_tokens: {len(admins)} admins, {len(teacher_tokens)} teachers signed in; "
        f"{sum(1 for _ in pairs(out / 'students.txt'))} students sampled"
    )


if __name__ == "__main__":
    main()
