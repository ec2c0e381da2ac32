"""Creates what deploy/openapi/check.sh tests against: a school of its own
with its admin (through the operator token), a teacher, a course with an
enrolled student (who has a guardian) and an assessment. Prints their ids and the admin's token
as JSON.

usage: setup.py BASE_URL OPERATOR_TOKEN
"""

import json
import sys
import time
import urllib.error
import urllib.request

base, operator = sys.argv[1], sys.argv[2]
slug = f"contract-{int(time.time())}"
password = "contract-check-password"


def call(method, path, token, body):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.load(res)


call("POST", "/api/v1/schools", operator, {
    "name": "Contract", "slug": slug,
    "admin": {"email": f"admin@{slug}.test", "password": password, "full_name": "Ada Admin"}})
token = call("POST", "/api/v1/auth/login", None,
             {"school": slug, "email": f"admin@{slug}.test", "password": password})["access_token"]
teacher = call("POST", "/api/v1/users", token, {
    "email": f"teacher@{slug}.test", "password": password, "full_name": "Tess Teacher",
    "role": "teacher"})["id"]
course = call("POST", "/api/v1/courses", token, {
    "code": "MATH-1", "name": "Mathematics", "term": "2026-T1", "teacher_id": teacher,
    "capacity": 30})["id"]
# The student's grade level: a grade's report cards need a current student.
GRADE_LEVEL = 3
student = call("POST", "/api/v1/students", token, {
    "admission_no": "C-1", "given_name": "Sam", "family_name": "Student",
    "date_of_birth": "2015-01-02", "grade_level": GRADE_LEVEL})["id"]
call("POST", f"/api/v1/courses/{course}/enrolments", token, {"student_id": student})
# A guardian of the enrolled student: an announcement to the course has
# someone to tell (in the inbox: the tested copy's preferences are all off).
guardian = call("POST", "/api/v1/guardians", token, {
    "given_name": "Gil", "family_name": "Guardian", "relationship": "father"})["id"]
call("PUT", f"/api/v1/guardians/{guardian}/students/{student}", token, {})
assessment = call("POST", f"/api/v1/courses/{course}/assessments", token, {
    "title": "Quiz", "max_score": 10, "weight": 10, "due_date": "2026-02-02"})["id"]
# notify-svc learns the student from its events: wait until it knows them
# (its first report card is accepted), so a grade's report cards have a
# current student when the run starts.
for _ in range(300):
    try:
        call("POST", f"/api/v1/students/{student}/report-cards", token, {"term": "2026-T1"})
        break
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
        time.sleep(0.1)
else:
    print("setup: notify-svc did not learn the check's student in 30 s", file=sys.stderr)
print(json.dumps({"token": token, "teacher": teacher, "course": course, "student": student,
                  "assessment": assessment, "guardian": guardian,
                  "grade_level": GRADE_LEVEL}))
