"""A little of a school day through the public API, so that every series
the alerts and dashboards use exists: sign-ins, reads (cache misses and
hits), writes, a refused request, a teacher marking a class with one pupil
absent (outbox → stream → notify-svc → a notice, SMS and push jobs), a
guardian reading the inbox. Usage: traffic.py GATEWAY_URL OPERATOR_TOKEN.
Idempotent enough to run against a stack that already has this school."""

import json
import sys
import urllib.error
import urllib.request
import uuid
from datetime import date

BASE, OPERATOR = sys.argv[1], sys.argv[2]
PASSWORD = "monitoring-password-1"
RUN = uuid.uuid4().hex[:8]


def call(method, path, token=None, body=None):
    req = urllib.request.Request(BASE + path, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data, timeout=10) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def must(status_body, *ok):
    status, body = status_body
    if status not in ok:
        sys.exit(f"unexpected {status}: {body}")
    return body


def login(email):
    return must(call("POST", "/api/v1/auth/login", body={"school": "monitoring", "email": email, "password": PASSWORD}), 200)["access_token"]


must(call("POST", "/api/v1/schools", OPERATOR, {
    "name": "Monitoring School", "slug": "monitoring",
    "admin": {"email": "admin@monitoring.test", "password": PASSWORD, "full_name": "Admin"}}), 201, 409)
admin = login("admin@monitoring.test")
teacher_email = f"tess-{RUN}@monitoring.test"
tess = must(call("POST", "/api/v1/users", admin, {
    "email": teacher_email, "password": PASSWORD, "full_name": "Tess", "role": "teacher"}), 201)
tess_token = login(teacher_email)
course = must(call("POST", "/api/v1/courses", admin, {
    "code": f"M-{RUN}", "name": "Maths", "term": "2026-T1", "teacher_id": tess["id"], "capacity": 30}), 201)
students = []
for i in range(3):
    s = must(call("POST", "/api/v1/students", admin, {
        "admission_no": f"M{RUN}-{i}", "given_name": ["Ada", "Ben", "Cleo"][i], "family_name": "Okafor",
        "date_of_birth": "2014-05-17", "grade_level": 5, "section": "A"}), 201)
    students.append(s["id"])
    must(call("POST", f"/api/v1/courses/{course['id']}/enrolments", admin, {"student_id": s["id"]}), 201)
guardian_email = f"mary-{RUN}@monitoring.test"
guardian = must(call("POST", "/api/v1/guardians", admin, {
    "given_name": "Mary", "family_name": "Okafor", "relationship": "mother", "phone": "+447911123456",
    "email": guardian_email, "notifications": {"sms": True, "push": True},
    "login": {"email": guardian_email, "password": PASSWORD}}), 201)
must(call("PUT", f"/api/v1/guardians/{guardian['id']}/students/{students[0]}", admin, {}), 201)
mary = login(guardian_email)

# Reads twice (a miss, then a hit), a 404 and a 400.
for _ in range(2):
    must(call("GET", "/api/v1/students", admin), 200)
    must(call("GET", f"/api/v1/students/{students[1]}", admin), 200)
must(call("GET", f"/api/v1/students/{uuid.uuid4()}", admin), 404)
must(call("GET", "/api/v1/students/not-an-id", admin), 400)
# Today's register: one pupil absent.
entries = [{"student_id": s, "status": "absent" if i == 0 else "present"} for i, s in enumerate(students)]
must(call("PUT", f"/api/v1/courses/{course['id']}/attendance/{date.today()}", tess_token, {"entries": entries}), 200)
must(call("GET", "/api/v1/me/notifications", mary), 200)
print(f"traffic sent (run {RUN})")
