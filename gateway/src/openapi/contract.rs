//! The pass over the generated document that makes it the exact contract:
//! every status an operation can answer, errors as `application/problem+json`
//! with their stable codes, the response headers the gateway sends, the
//! request constraints the services enforce (from [`platform::limits`], the
//! constants their validation uses), closed request objects (the DTOs deny
//! unknown fields), stable operation ids.
//!
//! It works on the JSON of the document: rules by path, method, parameter
//! and schema property are plainer there than through the builder types.

use platform::limits as l;
use serde_json::{json, Value};

use crate::problem::stable_codes;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];
const PROBLEM_REF: &str = "#/components/schemas/Problem";

pub fn apply(doc: &mut Value) {
    problem_schema(doc);
    security_schemes(doc);
    operations(doc);
    parameters(doc);
    request_schemas(doc);
    close_request_objects(doc);
}

fn problem_schema(doc: &mut Value) {
    let problem = &mut doc["components"]["schemas"]["Problem"];
    problem["properties"]["code"]["enum"] = json!(stable_codes());
    problem["properties"]["type"]["enum"] = json!(["about:blank"]);
    // `errors` and `error_count` are left out when there are no field errors.
    if let Some(required) = problem["required"].as_array_mut() {
        required.retain(|r| r != "errors" && r != "error_count");
    }
}

fn security_schemes(doc: &mut Value) {
    let schemes = &mut doc["components"]["securitySchemes"];
    schemes["bearer"]["description"] =
        json!("An access token from POST /api/v1/auth/login (a JWT).");
    schemes["operator"]["description"] =
        json!("The platform operator's token (OPERATOR_TOKEN), only for POST /api/v1/schools.");
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}},
    })
}

fn header(description: &str, required: bool) -> Value {
    let mut h = json!({"description": description, "schema": {"type": "string"}});
    if required {
        h["required"] = json!(true);
    }
    h
}

fn operations(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(op) = item.get_mut(method) {
                operation(path, method, op);
            }
        }
    }
}

fn operation(path: &str, method: &str, op: &mut Value) {
    let tag = op["tags"][0].as_str().unwrap_or("api").to_owned();
    if let Some(id) = op["operationId"].as_str() {
        op["operationId"] = json!(format!("{tag}_{id}"));
    }
    let schemes: Vec<String> = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_object())
        .flat_map(|r| r.keys().cloned())
        .collect();
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let has = |place: &str| params.iter().any(|p| p["in"] == place);
    let (has_path, has_query) = (has("path"), has("query"));
    let has_body = op.get("requestBody").is_some();
    let api = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";

    let cached = method == "get" && cached(path);
    if cached {
        let params = op
            .as_object_mut()
            .expect("operation")
            .entry("parameters")
            .or_insert_with(|| json!([]));
        if let Some(params) = params.as_array_mut() {
            params.push(
                json!({"name": "If-None-Match", "in": "header", "required": false,
                "description": "an ETag of an earlier answer: 304 while it is current",
                "schema": {"type": "string"}}),
            );
        }
    }
    let responses = op["responses"].as_object_mut().expect("responses");
    // Problems the handlers documented: under their real media type.
    for response in responses.values_mut() {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        if content
            .get("application/json")
            .is_some_and(|c| c["schema"]["$ref"] == PROBLEM_REF)
        {
            let c = content.remove("application/json").expect("checked");
            content.insert("application/problem+json".into(), c);
        }
    }
    if path == "/api/v1/students/import" {
        // A rejected import is a problem carrying the report.
        responses.insert(
            "422".into(),
            json!({
                "description": "nothing was imported: the report lists the rows' errors",
                "content": {"application/problem+json": {"schema": {"allOf": [
                    {"$ref": PROBLEM_REF},
                    {"$ref": "#/components/schemas/ImportReport"},
                ]}}},
            }),
        );
    }
    if cached {
        responses.insert(
            "304".into(),
            json!({"description": "not modified: the If-None-Match ETag is current"}),
        );
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status)
            .or_insert_with(|| problem(description));
    };
    if schemes.iter().any(|s| s == "bearer") {
        add(
            "401",
            "no bearer token, or one that is malformed, forged or expired",
        );
        add("403", "the caller's role may not do this");
    }
    if schemes.iter().any(|s| s == "operator") {
        add("401", "no operator token, or the wrong one");
    }
    if has_body {
        add(
            "400",
            "the body is not valid JSON of this shape, or a field is invalid",
        );
        add("413", "the body is larger than the gateway takes");
        add("415", "the body is not of the documented media type");
    }
    if has_path || has_query {
        add("400", "a parameter is invalid");
    }
    if has_path {
        add("404", "no such resource in the caller's school");
    }
    if api {
        add("429", "too many requests; retry after Retry-After seconds");
        add("500", "internal error");
        add(
            "503",
            "a service, or the rate limiter, is unavailable; retry shortly",
        );
        add("504", "a service took too long; retry shortly");
    }

    for (status, response) in responses.iter_mut() {
        let headers = response
            .as_object_mut()
            .expect("response")
            .entry("headers")
            .or_insert_with(|| json!({}));
        let headers = headers.as_object_mut().expect("headers");
        if api {
            headers.insert(
                "RateLimit".into(),
                header(
                    "the caller's remaining budget: \"class\";r=remaining;t=seconds to reset",
                    false,
                ),
            );
            headers.insert(
                "RateLimit-Policy".into(),
                header(
                    "the route class's limit: \"class\";q=limit;w=window seconds",
                    false,
                ),
            );
        }
        match status.as_str() {
            "429" => {
                headers.insert("Retry-After".into(), header("seconds to wait", true));
            }
            "503" => {
                headers.insert(
                    "Retry-After".into(),
                    header("seconds to wait (when the rate limiter is away)", false),
                );
            }
            "200" | "304" if cached => {
                headers.insert(
                    "ETag".into(),
                    header("on cached reads: send back in If-None-Match", false),
                );
                headers.insert(
                    "X-Cache".into(),
                    header("on cached reads: HIT, MISS or BYPASS", false),
                );
            }
            "201" if path.ends_with("/payments") => {
                headers.insert(
                    "Idempotent-Replayed".into(),
                    header(
                        "`true` when this answers an earlier request with the same Idempotency-Key",
                        false,
                    ),
                );
            }
            _ => {}
        }
        if headers.is_empty() {
            response
                .as_object_mut()
                .expect("response")
                .remove("headers");
        }
    }
}

/// Whether the gateway's response cache serves GETs of `path` (a
/// templated path): asked of the cache's own rules, for an admin, with a
/// UUID in every parameter, so the document cannot drift from them.
fn cached(path: &str) -> bool {
    let concrete: String = path
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                uuid::Uuid::nil().to_string()
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    let caller = platform::caller::Caller {
        school_id: uuid::Uuid::nil(),
        user_id: uuid::Uuid::nil(),
        role: platform::caller::Role::Admin,
        student_id: None,
    };
    let ttls = crate::cache::Ttls {
        record: std::time::Duration::from_secs(1),
        list: std::time::Duration::from_secs(1),
    };
    crate::cache::rules::read_plan(&ttls, &concrete, "", &caller).is_some()
}

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid", "pattern": l::UUID_PATTERN})
}

fn page_limit() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": l::PAGE_MAX})
}

/// A calendar date `YYYY-MM-DD` with every digit; `years` bounds it where the
/// services do. The pattern allows every day 01-31; `format: date` (RFC 3339
/// full-date) excludes the days a month does not have, as the services do.
fn date(years: Option<&str>) -> Value {
    match years {
        None => json!({"type": "string", "format": "date", "pattern": l::DATE_PATTERN}),
        Some(years) => json!({
            "type": "string",
            "format": "date",
            "pattern": format!("^(?:{years})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"),
        }),
    }
}

/// A date bounded by today as well (a birth date not after today, a hire
/// date at most a year ahead): the pattern bounds the years, the
/// description states the rule that moves with the calendar.
fn date_until_today(rule: &str) -> Value {
    let mut d = date(Some(PERSON_YEARS));
    d["description"] = json!(rule);
    d
}

/// Years 2000-2100, the range of the services' school dates.
const SCHOOL_YEARS: &str = "20[0-9]{2}|2100";
/// Years 1900-2099, the outer range of birth and hire dates.
const PERSON_YEARS: &str = "19[0-9]{2}|20[0-9]{2}";

fn parameters(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let Some(params) = item
                .get_mut(method)
                .and_then(|op| op.get_mut("parameters"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for p in params.iter_mut() {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let schema = match (p["in"].as_str(), name.as_str()) {
                    (Some("path"), "id" | "student_id" | "user_id") => uuid(),
                    (Some("query"), "student_id") => uuid(),
                    // Empty is no filter.
                    (Some("query"), "course_id" | "teacher_id") => json!({"type": "string",
                        "pattern": format!("^$|{}", l::UUID_PATTERN)}),
                    (Some("path"), "date") => date(Some(SCHOOL_YEARS)),
                    (Some("query"), "from" | "to") => date(Some(SCHOOL_YEARS)),
                    (Some("query"), "limit") => page_limit(),
                    (Some("query"), "grade_level") => json!({"type": "integer",
                        "minimum": l::GRADE_LEVEL_MIN, "maximum": l::GRADE_LEVEL_MAX}),
                    (Some("query"), "period") => {
                        json!({"type": "integer", "minimum": 0, "maximum": 12})
                    }
                    (Some("query"), "status") if path == "/api/v1/students" => {
                        json!({"type": "string", "enum": ["active", "graduated", "withdrawn"]})
                    }
                    (Some("query"), "status") if path == "/api/v1/invoices" => {
                        json!({"type": "string",
                        "enum": ["draft", "issued", "partially_paid", "paid", "void"]})
                    }
                    (Some("query"), "status") if path == "/api/v1/admin/deliveries" => {
                        json!({"type": "string", "enum": ["dead", "failed"]})
                    }
                    // Empty is every channel.
                    (Some("query"), "channel") => {
                        json!({"type": "string", "enum": ["", "sms", "email", "push"]})
                    }
                    (Some("path"), "kind")
                        if path.starts_with("/api/v1/notification-templates/") =>
                    {
                        json!({"type": "string", "enum": ["grades_published", "invoice_issued",
                            "invoice_overdue", "payment_receipt"]})
                    }
                    (Some("path"), "lang") => json!({"type": "string", "pattern": "^[a-z]{2}$"}),
                    (Some("query"), "reason") => json!({"type": "string",
                        "enum": ["chronic_absence", "consecutive_absences", "low_grade"]}),
                    (Some("query"), "mode") => {
                        json!({"type": "string", "enum": ["all", "partial"]})
                    }
                    (Some("query"), "q") => json!({"type": "string", "maxLength": l::SEARCH_MAX,
                        "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"}),
                    (Some("query"), "term") => json!({"type": "string",
                        "pattern": format!("^$|{}", l::TERM_PATTERN)}),
                    (Some("query"), "section") => json!({"type": "string",
                        "maxLength": l::SECTION_MAX, "pattern": l::SECTION_PATTERN}),
                    (Some("query"), "cursor") => json!({"type": "string", "maxLength": 2048}),
                    (Some("header"), "Idempotency-Key") => json!({"type": "string",
                        "minLength": 1, "maxLength": 255, "pattern": l::IDEMPOTENCY_KEY_PATTERN}),
                    _ => continue,
                };
                p["schema"] = schema;
            }
        }
    }
}

fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max, "pattern": l::DISPLAY_TEXT_PATTERN})
}

fn email() -> Value {
    json!({"type": "string", "maxLength": l::EMAIL_MAX, "pattern": l::EMAIL_PATTERN})
}

fn password() -> Value {
    json!({"type": "string", "minLength": l::PASSWORD_MIN, "maxLength": l::PASSWORD_MAX})
}

fn optional_text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max,
        "pattern": format!("^$|{}", l::DISPLAY_TEXT_PATTERN)})
}

/// The control characters free text refuses (all but tab, line feed and
/// carriage return), as a character class body.
const FREE_CONTROL: &str = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F";

/// A preferred language: two lowercase letters, or empty for the school's.
fn language() -> Value {
    json!({"type": "string", "pattern": "^$|^[a-z]{2}$"})
}

/// Text that may hold line breaks and tabs, no other control character.
fn free_text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max,
        "pattern": "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"})
}

/// An e-mail that may be left empty (none).
fn optional_email() -> Value {
    json!({"type": "string", "maxLength": l::EMAIL_MAX,
        "pattern": format!("^$|{}", l::EMAIL_PATTERN)})
}

fn optional_phone() -> Value {
    json!({"type": "string", "pattern": format!("^$|{}", l::PHONE_PATTERN)})
}

fn course_code() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": l::COURSE_CODE_MAX,
        "pattern": l::COURSE_CODE_PATTERN})
}

fn term() -> Value {
    json!({"type": "string", "pattern": l::TERM_PATTERN})
}

fn capacity() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": l::CAPACITY_MAX})
}

fn time() -> Value {
    json!({"type": "string", "pattern": l::TIME_PATTERN})
}

/// A positive number with at most two decimals, at most `max`.
fn points(max: i32) -> Value {
    json!({"type": "number", "minimum": 0.01, "maximum": max, "multipleOf": 0.01})
}

fn amount() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": l::AMOUNT_MAX})
}

/// The current ISO 4217 currencies, as the services take them (upper-case
/// codes; no funds, precious metals or superseded codes).
fn currency() -> Value {
    let mut codes = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            for c in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b, c]).expect("ASCII");
                if iso_currency::Currency::from_code(&code)
                    .is_some_and(|cur| !cur.is_special() && cur.is_superseded().is_none())
                {
                    codes.push(code);
                }
            }
        }
    }
    json!({"type": "string", "enum": codes})
}

/// Every IANA time zone name the services know (chrono-tz's database), so a
/// client can offer the list.
fn time_zone() -> Value {
    let mut names: Vec<Value> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| json!(tz.name()))
        .collect();
    // The fields are optional: null is "not given".
    names.push(Value::Null);
    json!({"type": "string", "enum": names})
}

fn month() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 12})
}

/// A day of the month; with its month, a day every year has (not 29
/// February), which students-svc checks.
fn day() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 31})
}

/// Constraints by (schema, property): what the services check, stated.
fn request_rules() -> Vec<(&'static str, &'static str, Value)> {
    let name = || text(l::PERSON_NAME_MAX);
    let admission = || {
        json!({"type": "string", "minLength": 1, "maxLength": l::ADMISSION_NO_MAX,
        "pattern": l::ADMISSION_NO_PATTERN})
    };
    let grade =
        || json!({"type": "integer", "minimum": l::GRADE_LEVEL_MIN, "maximum": l::GRADE_LEVEL_MAX});
    let section =
        || json!({"type": "string", "maxLength": l::SECTION_MAX, "pattern": l::SECTION_PATTERN});
    let version = || json!({"type": "integer", "format": "int64", "minimum": 1});
    vec![
        ("NewLogin", "email", email()),
        ("NewLogin", "password", password()),
        ("NewAdmin", "email", email()),
        ("NewAdmin", "password", password()),
        ("NewAdmin", "full_name", name()),
        ("CreateSchoolBody", "name", text(l::SCHOOL_NAME_MAX)),
        (
            "CreateSchoolBody",
            "slug",
            json!({"type": "string", "minLength": l::SLUG_MIN,
            "maxLength": l::SLUG_MAX, "pattern": l::SLUG_PATTERN}),
        ),
        ("CreateSchoolBody", "time_zone", time_zone()),
        ("CreateSchoolBody", "year_start_month", month()),
        ("CreateSchoolBody", "year_start_day", day()),
        ("UpdateSchoolBody", "version", version()),
        ("UpdateSchoolBody", "time_zone", time_zone()),
        ("UpdateSchoolBody", "year_start_month", month()),
        ("UpdateSchoolBody", "year_start_day", day()),
        ("CreateUserBody", "email", email()),
        ("CreateUserBody", "password", password()),
        ("PasswordBody", "new_password", password()),
        ("PasswordResetBody", "temporary_password", password()),
        (
            "UpdateUserBody",
            "role",
            json!({"enum": ["admin", "teacher", null]}),
        ),
        ("CreateUserBody", "full_name", name()),
        ("CreateStudentBody", "admission_no", admission()),
        ("CreateStudentBody", "given_name", name()),
        ("CreateStudentBody", "family_name", name()),
        (
            "CreateStudentBody",
            "date_of_birth",
            date_until_today("not after today (1900-01-01 at the earliest)"),
        ),
        ("CreateStudentBody", "grade_level", grade()),
        ("CreateStudentBody", "section", section()),
        ("UpdateStudentBody", "version", version()),
        ("UpdateStudentBody", "admission_no", admission()),
        ("UpdateStudentBody", "given_name", name()),
        ("UpdateStudentBody", "family_name", name()),
        (
            "UpdateStudentBody",
            "date_of_birth",
            date_until_today("not after today (1900-01-01 at the earliest)"),
        ),
        ("UpdateStudentBody", "grade_level", grade()),
        ("UpdateStudentBody", "section", section()),
        ("CreateGuardianBody", "given_name", name()),
        ("CreateGuardianBody", "family_name", name()),
        ("CreateGuardianBody", "email", optional_email()),
        ("UpdateGuardianBody", "version", version()),
        ("UpdateGuardianBody", "given_name", name()),
        ("UpdateGuardianBody", "family_name", name()),
        ("UpdateGuardianBody", "email", optional_email()),
        ("CreateGuardianBody", "preferred_language", language()),
        ("UpdateGuardianBody", "preferred_language", language()),
        ("CreateAnnouncementBody", "title", text(l::TITLE_MAX)),
        (
            "CreateAnnouncementBody",
            "body",
            json!({"type": "string", "maxLength": l::ANNOUNCEMENT_BODY_MAX,
                "pattern": format!("^[^{FREE_CONTROL}]*[^\\s{FREE_CONTROL}][^{FREE_CONTROL}]*$")}),
        ),
        (
            "AnnouncementAudience",
            "kind",
            json!({"enum": ["school", "grade_levels", "courses", "guardians"]}),
        ),
        (
            "AnnouncementAudience",
            "grade_levels",
            json!({"maxItems": l::GRADE_LEVEL_MAX - l::GRADE_LEVEL_MIN + 1,
                "items": {"type": "integer", "minimum": l::GRADE_LEVEL_MIN,
                    "maximum": l::GRADE_LEVEL_MAX}}),
        ),
        (
            "AnnouncementAudience",
            "course_ids",
            json!({"maxItems": l::MAX_AUDIENCE_COURSES, "items": uuid()}),
        ),
        (
            "AnnouncementAudience",
            "guardian_ids",
            json!({"maxItems": l::MAX_AUDIENCE_GUARDIANS, "items": uuid()}),
        ),
        ("CreateReportCardBody", "term", term()),
        ("CreateGradeReportCardsBody", "term", term()),
        ("CreateGradeReportCardsBody", "grade_level", grade()),
        ("UpdateCourseBody", "version", version()),
        ("UpdateAssessmentBody", "version", version()),
        ("EnrolBody", "student_id", uuid()),
        ("MarkEntry", "student_id", uuid()),
        ("OverrideEntry", "student_id", uuid()),
        ("GradeEntryBody", "student_id", uuid()),
        ("CreateCourseBody", "teacher_id", uuid()),
        ("UpdateCourseBody", "teacher_id", uuid()),
        ("CreateInvoiceBody", "student_id", uuid()),
        (
            "CreateUserBody",
            "role",
            json!({"enum": ["admin", "teacher"]}),
        ),
        ("CreateCourseBody", "code", course_code()),
        ("CreateCourseBody", "name", text(l::TITLE_MAX)),
        ("CreateCourseBody", "term", term()),
        ("CreateCourseBody", "capacity", capacity()),
        ("UpdateCourseBody", "code", course_code()),
        ("UpdateCourseBody", "name", text(l::TITLE_MAX)),
        ("UpdateCourseBody", "term", term()),
        ("UpdateCourseBody", "capacity", capacity()),
        (
            "AddSlotBody",
            "weekday",
            json!({"type": "integer", "minimum": 1, "maximum": 7}),
        ),
        ("AddSlotBody", "start", time()),
        ("AddSlotBody", "end", time()),
        ("AddSlotBody", "room", text(l::ROOM_MAX)),
        ("MarkEntry", "note", optional_text(l::NOTE_MAX)),
        ("OverrideEntry", "reason", text(l::NOTE_MAX)),
        ("CreateAssessmentBody", "title", text(l::TITLE_MAX)),
        (
            "CreateAssessmentBody",
            "description",
            free_text(l::DESCRIPTION_MAX),
        ),
        (
            "CreateAssessmentBody",
            "max_score",
            points(l::MAX_SCORE_MAX),
        ),
        ("CreateAssessmentBody", "weight", points(l::WEIGHT_MAX)),
        ("CreateAssessmentBody", "due_date", date(Some(SCHOOL_YEARS))),
        ("UpdateAssessmentBody", "title", text(l::TITLE_MAX)),
        (
            "UpdateAssessmentBody",
            "description",
            free_text(l::DESCRIPTION_MAX),
        ),
        (
            "UpdateAssessmentBody",
            "max_score",
            points(l::MAX_SCORE_MAX),
        ),
        ("UpdateAssessmentBody", "weight", points(l::WEIGHT_MAX)),
        ("UpdateAssessmentBody", "due_date", date(Some(SCHOOL_YEARS))),
        (
            "GradeEntryBody",
            "score",
            json!({"type": "number", "minimum": 0, "multipleOf": 0.01}),
        ),
        (
            "NewInvoiceLine",
            "description",
            text(l::LINE_DESCRIPTION_MAX),
        ),
        (
            "NewInvoiceLine",
            "quantity",
            json!({"type": "integer", "minimum": 1, "maximum": l::QUANTITY_MAX}),
        ),
        ("NewInvoiceLine", "unit_amount", amount()),
        ("CreateInvoiceBody", "currency", currency()),
        ("CreateInvoiceBody", "issued_on", date(Some(SCHOOL_YEARS))),
        ("CreateInvoiceBody", "due_on", date(Some(SCHOOL_YEARS))),
        (
            "CreateInvoiceBody",
            "status",
            json!({"enum": ["draft", "issued", null]}),
        ),
        ("PaymentBody", "amount", amount()),
        ("PaymentBody", "currency", currency()),
        (
            "PaymentBody",
            "reference",
            json!({"type": "string", "maxLength": l::REFERENCE_MAX,
            "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"}),
        ),
        ("CreateGuardianBody", "phone", optional_phone()),
        ("UpdateGuardianBody", "phone", optional_phone()),
        ("StaffProfileBody", "phone", optional_phone()),
        ("StaffProfileBody", "employee_no", admission()),
        (
            "StaffProfileBody",
            "hired_on",
            date_until_today("at most a year from today (1900-01-01 at the earliest)"),
        ),
        (
            "StaffProfileBody",
            "subjects",
            json!({"maxItems": l::MAX_SUBJECTS, "uniqueItems": true,
            "items": {"type": "string", "minLength": 1, "maxLength": l::SUBJECT_MAX,
                "pattern": l::DISPLAY_TEXT_PATTERN}}),
        ),
        // Not only white space; what they render to is checked on save.
        (
            "TemplateBody",
            "subject",
            json!({"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}),
        ),
        (
            "TemplateBody",
            "body",
            json!({"type": "string", "minLength": 1, "maxLength": 10_000, "pattern": "\\S"}),
        ),
        (
            "MarkReadBody",
            "ids",
            json!({"minItems": 1, "maxItems": l::MAX_MARK_READ, "items": uuid()}),
        ),
        (
            "CreateInvoiceBody",
            "lines",
            json!({"minItems": 1, "maxItems": l::MAX_LINES}),
        ),
        (
            "MarkAttendanceBody",
            "entries",
            json!({"minItems": 1, "maxItems": l::MAX_ENTRIES}),
        ),
        (
            "OverrideAttendanceBody",
            "overrides",
            json!({"minItems": 1, "maxItems": l::MAX_ENTRIES}),
        ),
        (
            "RecordGradesBody",
            "entries",
            json!({"minItems": 1, "maxItems": l::MAX_ENTRIES}),
        ),
    ]
}

/// Merges `rule` into a property schema, keeping its `null` where the
/// property is optional (`type: [T, "null"]` or `oneOf` with null).
fn constrain(property: &mut Value, rule: &Value) {
    let Some(rule) = rule.as_object() else {
        return;
    };
    let nullable = match &property["type"] {
        Value::Array(types) => types.iter().any(|t| t == "null"),
        _ => false,
    };
    let target = property.as_object_mut().expect("property schema");
    for (k, v) in rule {
        if k == "type" && nullable {
            target.insert(k.clone(), json!([v, "null"]));
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
}

fn request_schemas(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    for (schema, property, rule) in request_rules() {
        let p = &mut schemas[schema]["properties"][property];
        assert!(
            p.is_object(),
            "no property {schema}.{property} to constrain"
        );
        constrain(p, &rule);
    }
    // The school year's start is one value in two fields: both or neither
    // (null is neither).
    let given = |f: &str| json!({"required": [f], "properties": {f: {"type": "integer"}}});
    for body in ["CreateSchoolBody", "UpdateSchoolBody"] {
        schemas[body]["allOf"] = json!([
            {"if": given("year_start_month"), "then": given("year_start_day")},
            {"if": given("year_start_day"), "then": given("year_start_month")},
        ]);
    }
    // A PATCH changes at least one field besides `version` (null is no change).
    for body in [
        "UpdateSchoolBody",
        "UpdateStudentBody",
        "UpdateGuardianBody",
        "UpdateCourseBody",
        "UpdateAssessmentBody",
        "UpdateUserBody",
    ] {
        let fields: Vec<String> = schemas[body]["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .filter(|k| *k != "version")
            .cloned()
            .collect();
        schemas[body]["anyOf"] = fields
            .iter()
            .map(
                |f| json!({"required": [f], "properties": {f.as_str(): {"not": {"type": "null"}}}}),
            )
            .collect();
    }
}

/// Every object schema a request body reaches takes only its own fields:
/// the gateway's request DTOs deny unknown fields.
fn close_request_objects(doc: &mut Value) {
    let mut roots = Vec::new();
    collect_refs(&doc["paths"], &mut roots, true);
    let schemas = &mut doc["components"]["schemas"];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = roots.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let s = &mut schemas[&name];
        if s["type"] == "object" {
            s["additionalProperties"] = json!(false);
        }
        let mut more = Vec::new();
        collect_refs(s, &mut more, false);
        roots.extend(more);
    }
}

/// Schema names referenced (under `requestBody` only, when `bodies`).
fn collect_refs(v: &Value, out: &mut Vec<String>, bodies: bool) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if bodies && k == "requestBody" {
                    collect_refs(child, out, false);
                } else if bodies && k == "responses" {
                    continue;
                } else if !bodies && k == "$ref" {
                    if let Some(name) = child
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    {
                        out.push(name.to_owned());
                    }
                } else {
                    collect_refs(child, out, bodies);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out, bodies)),
        _ => {}
    }
}
