#!/usr/bin/env python3
"""The demo school's people and a week of school life, for `make run`.

Usage: seed-demo.py BASE_URL ADMIN_TOKEN PASSWORD

Through the public API only, after run.sh created the school, its admin and
30 students: a teacher with two courses (a timetable every weekday, the
first ten students enrolled), a guardian with two children, the last school
week of attendance (dates counted back from today, so the demo never goes
stale), a published quiz and a partly paid invoice. Run once per stack:
a second run finds the teacher and stops.
"""

import datetime
import json
import sys
import urllib.error
import urllib.request

BASE, TOKEN, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, token=TOKEN, headers=None, ok=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{BASE}/api/v1{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as res:
            raw = res.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return None
        raise SystemExit(f"seed: {method} {path} -> {e.code} {e.read().decode()[:300]}")


def all_students():
    items, cursor = [], None
    while True:
        page = call("GET", "/students?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return sorted(items, key=lambda s: s["admission_no"])


def main():
    teacher = call("POST", "/users", {"email": "teacher@demo.school", "password": PASSWORD,
                                      "full_name": "Tess Teacher", "role": "teacher"}, ok=(409,))
    if teacher is None:
        print("seed: the demo people exist already")
        return
    students = all_students()
    today = datetime.date.today()
    term = f"{today.year}-T1"
    courses = []
    for code, name, start, end, room in [("MATH-7", "Mathematics", "09:00", "09:50", "R101"),
                                          ("SCI-7", "Science", "10:00", "10:50", "LAB1")]:
        c = call("POST", "/courses", {"code": code, "name": name, "term": term,
                                      "teacher_id": teacher["id"], "capacity": 30})
        for weekday in range(1, 6):
            call("POST", f"/courses/{c['id']}/slots",
                 {"weekday": weekday, "start": start, "end": end, "room": room})
        for s in students[:10]:
            call("POST", f"/courses/{c['id']}/enrolments", {"student_id": s["id"]})
        courses.append(c)

    # A guardian with two children, the first two enrolled students.
    g = call("POST", "/guardians", {
        "given_name": "Grace", "family_name": "Okafor", "relationship": "mother",
        "phone": "+447911123456", "email": "guardian@demo.school",
        "notifications": {"sms": False, "email": False, "push": True},
        "login": {"email": "guardian@demo.school", "password": PASSWORD}})
    for i, s in enumerate(students[:2]):
        call("PUT", f"/guardians/{g['id']}/students/{s['id']}",
             {"relationship": "mother", "is_primary": i == 0})

    # The last five school days before today, marked by the teacher; the
    # first child misses a day, the second is late once, one more is absent.
    teacher_token = call("POST", "/auth/login", {"school": "demo", "email": "teacher@demo.school",
                                                 "password": PASSWORD}, token="")["access_token"]
    days, d = [], today
    while len(days) < 5:
        d -= datetime.timedelta(days=1)
        if d.isoweekday() <= 5:
            days.append(d)
    for n, day in enumerate(reversed(days)):
        for c in courses:
            entries = []
            for i, s in enumerate(students[:10]):
                status = "present"
                if (i == 0 and n == 3) or (i == 5 and n in (1, 2, 3)):
                    status = "absent"
                elif i == 1 and n == 2:
                    status = "late"
                entries.append({"student_id": s["id"], "status": status})
            call("PUT", f"/courses/{c['id']}/attendance/{day.isoformat()}",
                 {"entries": entries}, token=teacher_token)

    # A quiz per course, graded and published.
    for k, c in enumerate(courses):
        a = call("POST", f"/courses/{c['id']}/assessments",
                 {"title": "Quiz 1", "max_score": 20, "weight": 10,
                  "due_date": (today - datetime.timedelta(days=3)).isoformat()}, token=teacher_token)
        scores = [{"student_id": s["id"], "score": [18, 15, 9, 20, 12, 7, 16, 14, 19, 11][(i + k) % 10]}
                  for i, s in enumerate(students[:10])]
        call("PUT", f"/assessments/{a['id']}/grades", {"entries": scores}, token=teacher_token)
        call("POST", f"/assessments/{a['id']}/publish", {}, token=teacher_token)

    # Term fees for the guardian's children; the first one half paid.
    for i, s in enumerate(students[:2]):
        inv = call("POST", "/invoices", {
            "student_id": s["id"], "currency": "USD",
            "lines": [{"description": "Tuition", "quantity": 1, "unit_amount": 120000}],
            "issued_on": (today - datetime.timedelta(days=20)).isoformat(),
            "due_on": (today + datetime.timedelta(days=10)).isoformat()})
        if i == 0:
            call("POST", f"/invoices/{inv['id']}/payments",
                 {"amount": 60000, "currency": "USD", "method": "card"},
                 headers={"Idempotency-Key": f"demo-{inv['id']}"})
    print(f"seed: teacher, guardian of {students[0]['given_name']} and {students[1]['given_name']}, "
          f"{len(courses)} courses, {len(days)} days of attendance, grades, invoices")


main()
