//! What is cached and what a write invalidates. Keys live in the tenant's
//! hash slot (`{school:<id>}`), beside its rate-limit keys, so one script can
//! touch all of them on a Redis Cluster.
//!
//! A value key covers tenant, route, normalised query and the authorization
//! scope that shapes the answer: the role always, and the user for roles that
//! only ever see their own records (students, guardians).
//!
//! Dashboards and the early-warning list (analytics-svc) depend on one
//! generation per school, `platform::cache::dashboards_generation`, which
//! analytics-svc bumps after every transaction that changed the school's
//! read models (the gateway's writes do not: the read models change only
//! when analytics-svc has applied their events). Their answers differ per
//! user for every role but admin (a teacher's own dashboard, the students a
//! teacher or guardian reaches), so only admins share an entry.
//!
//! The key prefix, the generation names and the bump are
//! `platform::cache`'s, so the gateway and analytics-svc build the same keys.

use std::time::Duration;

use actix_web::http::Method;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use platform::caller::{Caller, Role};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Time to live per resource class.
#[derive(Clone, Copy, Debug)]
pub struct Ttls {
    /// One record (`GET /students/{id}`), a dashboard, a student summary.
    pub record: Duration,
    /// A list page (`GET /students`, `GET /reports/at-risk`).
    pub list: Duration,
}

/// How one read is cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub value_key: String,
    /// The generations the answer depends on; all must be unchanged.
    pub generation_keys: Vec<String>,
    pub ttl: Duration,
}

/// The routes this module knows, parsed from a path under `/api/v1/`.
enum Route {
    Students,
    Student(Uuid),
    /// `POST /students/import`: creates students, like `POST /students`.
    Import,
    /// `guardians/{id}/students/{student_id}`: not cached, but unlinking
    /// changes what the guardian may read of the student.
    GuardianLink(Uuid),
    /// `dashboards/school`, `dashboards/teacher`, `reports/at-risk`,
    /// `reports/course-grades` and `students/{id}/summary`: answers from analytics-svc's read models.
    Dashboard(Dashboard),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dashboard {
    School,
    Teacher,
    AtRisk,
    CourseGrades,
    Summary(Uuid),
}

impl Route {
    fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/api/v1/")?;
        match rest {
            "students" => return Some(Self::Students),
            "dashboards/school" => return Some(Self::Dashboard(Dashboard::School)),
            "dashboards/teacher" => return Some(Self::Dashboard(Dashboard::Teacher)),
            "reports/at-risk" => return Some(Self::Dashboard(Dashboard::AtRisk)),
            "reports/course-grades" => return Some(Self::Dashboard(Dashboard::CourseGrades)),
            _ => {}
        }
        if let Some(student) = rest
            .strip_prefix("students/")
            .and_then(|r| r.strip_suffix("/summary"))
        {
            // Not a UUID: the handler answers 400, nothing to cache.
            return platform::text::parse_uuid(student)
                .map(|id| Self::Dashboard(Dashboard::Summary(id)));
        }
        if rest == "students/import" {
            return Some(Self::Import);
        }
        if let Some((_, student)) = rest
            .strip_prefix("guardians/")
            .and_then(|r| r.split_once("/students/"))
        {
            return platform::text::parse_uuid(student).map(Self::GuardianLink);
        }
        // Not a UUID: the handler answers 400, nothing to cache.
        platform::text::parse_uuid(rest.strip_prefix("students/")?).map(Self::Student)
    }
}

fn list_generation(caller: &Caller) -> String {
    platform::cache::generation(caller.school_id, "students")
}

fn record_generation(caller: &Caller, id: Uuid) -> String {
    platform::cache::generation(caller.school_id, &format!("student:{id}"))
}

fn user_scope(caller: &Caller) -> String {
    format!("{}:{}", caller.role.as_str(), caller.user_id)
}

/// Student records: staff see the same answers, students and guardians
/// only their own.
fn scope(caller: &Caller) -> String {
    match caller.role {
        Role::Admin | Role::Teacher => caller.role.as_str().to_owned(),
        Role::Student | Role::Guardian => user_scope(caller),
    }
}

/// Dashboards: what a teacher sees depends on their courses, so only admins
/// share answers.
fn dashboard_scope(caller: &Caller) -> String {
    match caller.role {
        Role::Admin => caller.role.as_str().to_owned(),
        Role::Teacher | Role::Student | Role::Guardian => user_scope(caller),
    }
}

/// The query with its parameters in name order (a stable sort: repeated
/// names keep their order, which may matter), hashed so that keys stay short
/// whatever the client sends.
fn normalised_query(query: &str) -> String {
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if pairs.is_empty() {
        return "-".to_owned();
    }
    pairs.sort_by_key(|p| p.split_once('=').map_or(*p, |(name, _)| name));
    let digest = Sha256::digest(pairs.join("&").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The plan of a cacheable GET, or `None` when the route is not cached.
pub fn read_plan(ttls: &Ttls, path: &str, query: &str, caller: &Caller) -> Option<Plan> {
    let (name, scope, generation, ttl) = match Route::parse(path)? {
        Route::Students => (
            "students".to_owned(),
            scope(caller),
            list_generation(caller),
            ttls.list,
        ),
        Route::Student(id) => (
            format!("student:{id}"),
            scope(caller),
            record_generation(caller, id),
            ttls.record,
        ),
        Route::Dashboard(d) => {
            let (name, ttl) = match d {
                Dashboard::School => ("dashboard:school".to_owned(), ttls.record),
                Dashboard::Teacher => ("dashboard:teacher".to_owned(), ttls.record),
                Dashboard::Summary(id) => (format!("summary:{id}"), ttls.record),
                Dashboard::AtRisk => ("at-risk".to_owned(), ttls.list),
                Dashboard::CourseGrades => ("course-grades".to_owned(), ttls.list),
            };
            let generation = platform::cache::dashboards_generation(caller.school_id);
            (name, dashboard_scope(caller), generation, ttl)
        }
        Route::Import => return None,
        Route::GuardianLink(_) => return None,
    };
    let t = platform::cache::tenant(caller.school_id);
    Some(Plan {
        value_key: format!("{t}:v:{name}:{scope}:{}", normalised_query(query)),
        generation_keys: vec![generation],
        ttl,
    })
}

/// The generations a write to `path` bumps (empty when it changes nothing
/// cached).
pub fn invalidations(method: &Method, path: &str, caller: &Caller) -> Vec<String> {
    match (method, Route::parse(path)) {
        (&Method::POST, Some(Route::Students | Route::Import)) => vec![list_generation(caller)],
        (&Method::PATCH | &Method::DELETE | &Method::PUT, Some(Route::Student(id))) => {
            vec![list_generation(caller), record_generation(caller, id)]
        }
        // A guardian's cached copy of the student must not outlive the link.
        (&Method::DELETE, Some(Route::GuardianLink(student))) => {
            vec![record_generation(caller, student)]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            school_id: Uuid::from_u128(1),
            user_id: Uuid::from_u128(2),
            role,
            student_id: (role == Role::Student).then(|| Uuid::from_u128(3)),
        }
    }

    const TTLS: Ttls = Ttls {
        record: Duration::from_secs(60),
        list: Duration::from_secs(120),
    };

    #[test]
    fn keys_cover_tenant_route_query_and_scope() {
        let admin = caller(Role::Admin);
        let p = read_plan(&TTLS, "/api/v1/students", "limit=5&grade_level=3", &admin).unwrap();
        let same = read_plan(&TTLS, "/api/v1/students", "grade_level=3&limit=5", &admin).unwrap();
        assert_eq!(p, same, "parameter order does not matter");
        assert!(p
            .value_key
            .starts_with("c:{school:00000000-0000-0000-0000-000000000001}:v:students:admin:"));
        assert_eq!(p.ttl, TTLS.list);
        let other_query = read_plan(&TTLS, "/api/v1/students", "limit=6&grade_level=3", &admin);
        assert_ne!(Some(p.clone()), other_query);
        // Repeated names keep their order: the handler may read the first.
        assert_ne!(
            read_plan(&TTLS, "/api/v1/students", "q=a&q=b", &admin),
            read_plan(&TTLS, "/api/v1/students", "q=b&q=a", &admin)
        );
        let teacher = read_plan(
            &TTLS,
            "/api/v1/students",
            "limit=5&grade_level=3",
            &caller(Role::Teacher),
        )
        .unwrap();
        assert_ne!(p.value_key, teacher.value_key, "roles never share");
        let mut elsewhere = admin;
        elsewhere.school_id = Uuid::from_u128(9);
        let e = read_plan(
            &TTLS,
            "/api/v1/students",
            "limit=5&grade_level=3",
            &elsewhere,
        )
        .unwrap();
        assert_ne!(p.value_key, e.value_key, "schools never share");
        assert_ne!(p.generation_keys, e.generation_keys);
    }

    #[test]
    fn self_scoped_roles_are_keyed_by_user() {
        let id = "/api/v1/students/00000000-0000-0000-0000-000000000003";
        let a = read_plan(&TTLS, id, "", &caller(Role::Student)).unwrap();
        let mut other = caller(Role::Student);
        other.user_id = Uuid::from_u128(7);
        let b = read_plan(&TTLS, id, "", &other).unwrap();
        assert_ne!(a.value_key, b.value_key);
        assert_eq!(a.generation_keys, b.generation_keys);
        assert_eq!(a.ttl, TTLS.record);
    }

    #[test]
    fn only_known_routes_are_cached() {
        let admin = caller(Role::Admin);
        for path in [
            "/api/v1/auth/me",
            "/api/v1/students/not-a-uuid",
            "/api/v1/users",
            "/healthz",
            "/api/v1/students/x/y",
        ] {
            assert_eq!(read_plan(&TTLS, path, "", &admin), None, "{path}");
        }
    }

    #[test]
    fn a_students_attendance_and_fees_are_never_cached() {
        let student = Uuid::from_u128(5);
        for role in [Role::Admin, Role::Student, Role::Guardian] {
            for path in [
                format!("/api/v1/students/{student}/attendance"),
                format!("/api/v1/students/{student}/balance"),
                "/api/v1/invoices".to_owned(),
                format!("/api/v1/invoices/{student}"),
            ] {
                assert_eq!(read_plan(&TTLS, &path, "", &caller(role)), None, "{path}");
            }
        }
    }

    #[test]
    fn writes_bump_the_list_and_the_record() {
        let admin = caller(Role::Admin);
        let id = Uuid::from_u128(5);
        let path = format!("/api/v1/students/{id}");
        let record = read_plan(&TTLS, &path, "", &admin).unwrap();
        let list = read_plan(&TTLS, "/api/v1/students", "", &admin).unwrap();
        let bumped = invalidations(&Method::PATCH, &path, &admin);
        assert!(bumped.contains(&record.generation_keys[0]));
        assert!(bumped.contains(&list.generation_keys[0]));
        assert_eq!(
            invalidations(&Method::POST, "/api/v1/students", &admin),
            list.generation_keys
        );
        assert!(invalidations(&Method::POST, "/api/v1/users", &admin).is_empty());
    }

    #[test]
    fn dashboards_hang_on_the_schools_dashboard_generation() {
        let student = Uuid::from_u128(5);
        let paths = [
            "/api/v1/dashboards/school".to_owned(),
            "/api/v1/dashboards/teacher".to_owned(),
            "/api/v1/reports/at-risk".to_owned(),
            format!("/api/v1/students/{student}/summary"),
        ];
        let admin = caller(Role::Admin);
        for path in &paths {
            let p = read_plan(&TTLS, path, "", &admin).unwrap();
            assert_eq!(
                p.generation_keys,
                [platform::cache::dashboards_generation(admin.school_id)],
                "{path}"
            );
            assert!(p
                .value_key
                .starts_with(&platform::cache::tenant(admin.school_id)));
        }
        assert_eq!(
            read_plan(&TTLS, "/api/v1/students/nope/summary", "", &admin),
            None
        );
        for path in ["/api/v1/reports/attendance", "/api/v1/reports/fees"] {
            assert_eq!(read_plan(&TTLS, path, "from=2026-01-01", &admin), None);
        }
    }

    #[test]
    fn only_admins_share_dashboard_answers() {
        let path = "/api/v1/students/00000000-0000-0000-0000-000000000003/summary";
        let key = |c: &Caller| read_plan(&TTLS, path, "", c).unwrap().value_key;
        let mut other_admin = caller(Role::Admin);
        other_admin.user_id = Uuid::from_u128(8);
        assert_eq!(key(&caller(Role::Admin)), key(&other_admin));
        let mut keys = std::collections::BTreeSet::new();
        for role in [Role::Admin, Role::Teacher, Role::Student, Role::Guardian] {
            for user in [2, 8] {
                let mut c = caller(role);
                c.user_id = Uuid::from_u128(user);
                keys.insert(key(&c));
            }
        }
        assert_eq!(keys.len(), 7, "per user, except admins");
        let mut elsewhere = caller(Role::Admin);
        elsewhere.school_id = Uuid::from_u128(9);
        assert_ne!(key(&caller(Role::Admin)), key(&elsewhere));
        let teacher = read_plan(
            &TTLS,
            "/api/v1/dashboards/teacher",
            "",
            &caller(Role::Teacher),
        );
        let mut other = caller(Role::Teacher);
        other.user_id = Uuid::from_u128(8);
        assert_ne!(
            teacher,
            read_plan(&TTLS, "/api/v1/dashboards/teacher", "", &other)
        );
    }

    #[test]
    fn unlinking_a_guardian_bumps_the_student_record() {
        let admin = caller(Role::Admin);
        let student = Uuid::from_u128(5);
        let record = read_plan(&TTLS, &format!("/api/v1/students/{student}"), "", &admin).unwrap();
        let link = format!(
            "/api/v1/guardians/{}/students/{student}",
            Uuid::from_u128(6)
        );
        assert_eq!(read_plan(&TTLS, &link, "", &admin), None);
        assert_eq!(
            invalidations(&Method::DELETE, &link, &admin),
            record.generation_keys
        );
        assert!(invalidations(&Method::PUT, &link, &admin).is_empty());
    }
}
