"""The copy of the OpenAPI document that schemathesis tests with.

The served document states every rule a JSON Schema can state about one
value. A few rules relate two values, or need a value only the server can
make; schemathesis would generate requests that break them and report the
server's 400 as "a valid request rejected". This copy narrows exactly those
inputs, so that what it generates keeps them; each narrowing names its rule.
Everything else is tested as served.

usage: narrow.py SERVED.json TESTED.json SETUP.json (from setup.py)
"""

import json
import sys

doc = json.load(open(sys.argv[1]))
setup = json.load(open(sys.argv[3]))
paths, schemas = doc["paths"], doc["components"]["schemas"]


def days(year, month):
    return f"^{year}-{month}-(?:0[1-9]|1[0-9]|2[0-8])$"


for item in paths.values():
    for op in item.values():
        if not isinstance(op, dict) or "parameters" not in op:
            continue
        # `cursor`: only a next_cursor the server issued is valid.
        op["parameters"] = [p for p in op["parameters"] if p["name"] != "cursor"]

# from..to: `to` not before `from`, and at most 92 days after it.
for p in paths["/api/v1/students/{id}/attendance"]["get"]["parameters"]:
    if p["name"] == "from":
        p["schema"] = {"type": "string", "pattern": days(2026, "01")}
    if p["name"] == "to":
        p["schema"] = {"type": "string", "pattern": days(2026, "02")}

# Reports: `to` not before `from`, at most 366 days (both counted).
for path in ("/api/v1/reports/attendance", "/api/v1/reports/fees"):
    for p in paths[path]["get"]["parameters"]:
        if p["name"] == "from":
            p["schema"] = {"type": "string", "pattern": days(2026, "01")}
        if p["name"] == "to":
            p["schema"] = {"type": "string", "pattern": days(2026, "(?:0[2-9]|1[0-2])")}

# Each student at most once in a marking, overrides or a grade recording.
schemas["MarkAttendanceBody"]["properties"]["entries"]["maxItems"] = 1
schemas["OverrideAttendanceBody"]["properties"]["overrides"]["maxItems"] = 1
schemas["RecordGradesBody"]["properties"]["entries"]["maxItems"] = 1

# A school year starts on a day every year has (not 29 February), given as
# month and day together: both, never null, days 1-28.
for body in ("CreateSchoolBody", "UpdateSchoolBody"):
    school = schemas[body]
    school.pop("allOf")
    school["required"] = sorted(set(school.get("required", [])) | {"year_start_month", "year_start_day"})
    school["properties"]["year_start_month"] = {"type": "integer", "minimum": 1, "maximum": 12}
    school["properties"]["year_start_day"] = {"type": "integer", "minimum": 1, "maximum": 28}

# A slot ends after it starts.
slot = schemas["AddSlotBody"]["properties"]
slot["start"]["pattern"] = "^(?:0[0-9]|1[01]):[0-5][0-9]$"
slot["end"]["pattern"] = "^(?:1[2-9]|2[0-3]):[0-5][0-9]$"

# due_on not before issued_on; the lines' total at most the largest amount.
invoice = schemas["CreateInvoiceBody"]["properties"]
invoice["issued_on"]["pattern"] = "^20[0-4][0-9]-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])$"
invoice["due_on"]["pattern"] = "^(?:20[5-9][0-9]|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])$"
invoice["lines"]["maxItems"] = 1
schemas["NewInvoiceLine"]["properties"]["unit_amount"]["maximum"] = 10**9

# SMS and e-mail notices need a phone and an e-mail on the guardian.
prefs = schemas["NotificationPreferences"]["properties"]
for kind in ("sms", "email"):
    prefs[kind] = {"type": "boolean", "const": False}

# A course's teacher must be a teacher of the school: the check's own one.
teacher = {"type": "string", "enum": [setup["teacher"]]}
schemas["CreateCourseBody"]["properties"]["teacher_id"] = teacher
schemas["UpdateCourseBody"]["properties"]["teacher_id"] = {"anyOf": [teacher, {"type": "null"}]}

# A score is at most the assessment's max score (at least 0.01).
schemas["GradeEntryBody"]["properties"]["score"]["maximum"] = 0.01

# An import is a CSV file with the header row and known columns.
csv = "admission_no,given_name,family_name,date_of_birth,grade_level\nIMP-1,Ann,Lee,2015-01-02,3\n"
body = paths["/api/v1/students/import"]["post"]["requestBody"]["content"]["text/csv"]
body["schema"] = {"type": "string", "enum": [csv]}

# A template must render with the kind's sample variables (syntax, known
# variables, a one-line subject of at most 200 characters): a valid one.
template = schemas["TemplateBody"]["properties"]
template["subject"] = {"type": "string", "enum": ["Notice for {{ school_name }}"]}
template["body"] = {"type": "string", "enum": ["Hello from {{ school_name }}.\n"]}

# An announcement's audience fills the list of its kind only, and must
# have a guardian in it: the course whose student has the setup's guardian.
schemas["CreateAnnouncementBody"]["properties"]["audience"] = {
    "enum": [{"kind": "courses", "course_ids": [setup["course"]]}]}

# A grade level's report cards need a current student in it: the check's
# student's grade; one student's card, the check's student.
schemas["CreateGradeReportCardsBody"]["properties"]["grade_level"] = {
    "type": "integer", "enum": [setup["grade_level"]]}

# Marks, overrides and grades are for students enrolled in the course: the
# check's own course, student and assessment.
def pin(path, method, name, value):
    for p in paths[path][method]["parameters"]:
        if p["name"] == name:
            p["schema"] = {"type": "string", "enum": [value]}


enrolled = {"type": "string", "enum": [setup["student"]]}
for path, method in (("/api/v1/courses/{id}/attendance/{date}", "put"),
                     ("/api/v1/courses/{id}/attendance/{date}/overrides", "post")):
    pin(path, method, "id", setup["course"])
pin("/api/v1/assessments/{id}/grades", "put", "id", setup["assessment"])
pin("/api/v1/students/{id}/report-cards", "post", "id", setup["student"])
# Staff profiles are for teachers.
pin("/api/v1/staff/{user_id}", "put", "user_id", setup["teacher"])
for schema in ("MarkEntry", "OverrideEntry", "GradeEntryBody"):
    schemas[schema]["properties"]["student_id"] = enrolled

# Dates: the served patterns allow days 29-31, which `format: date` refuses
# for the months without them, a rule schemathesis does not apply when it
# generates; and birth and hire dates are bounded by today, which a pattern
# cannot state. So the tested copy generates days 01-28, and birth and hire
# dates before 2020.
DAYS_SERVED, DAYS_TESTED = "(?:0[1-9]|[12][0-9]|3[01])$", "(?:0[1-9]|1[0-9]|2[0-8])$"
PERSON_SERVED, PERSON_TESTED = "^(?:19[0-9]{2}|20[0-9]{2})-", "^(?:19[0-9]{2}|20[01][0-9])-"


def narrow_dates(node):
    if isinstance(node, dict):
        if node.get("format") == "date" and "pattern" in node:
            node["pattern"] = node["pattern"].replace(DAYS_SERVED, DAYS_TESTED).replace(PERSON_SERVED, PERSON_TESTED)
        for v in node.values():
            narrow_dates(v)
    elif isinstance(node, list):
        for v in node:
            narrow_dates(v)


narrow_dates(doc)
json.dump(doc, open(sys.argv[2], "w"), indent=1)
