//! Announcement requests parsed at the edge (every field error collected),
//! and the list's cursor.

use platform::limits as l;
use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};
use proto::notify::v1 as pb;
use uuid::Uuid;

/// Who an announcement is for: the guardians of the students it names (or
/// the guardians it names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Guardians of every current student.
    School,
    /// Guardians of the current students in these grades.
    GradeLevels(Vec<i32>),
    /// Guardians of the students enrolled in these courses.
    Courses(Vec<Uuid>),
    /// These guardians.
    Guardians(Vec<Uuid>),
}

impl Audience {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::School => "school",
            Self::GradeLevels(_) => "grade_levels",
            Self::Courses(_) => "courses",
            Self::Guardians(_) => "guardians",
        }
    }

    pub fn grade_levels(&self) -> &[i32] {
        match self {
            Self::GradeLevels(g) => g,
            _ => &[],
        }
    }

    pub fn course_ids(&self) -> &[Uuid] {
        match self {
            Self::Courses(c) => c,
            _ => &[],
        }
    }

    pub fn guardian_ids(&self) -> &[Uuid] {
        match self {
            Self::Guardians(g) => g,
            _ => &[],
        }
    }

    /// As stored (kind and its list); an unknown kind is the whole school's
    /// (the column's CHECK admits none).
    pub fn from_parts(
        kind: &str,
        grade_levels: Vec<i32>,
        course_ids: Vec<Uuid>,
        guardian_ids: Vec<Uuid>,
    ) -> Self {
        match kind {
            "grade_levels" => Self::GradeLevels(grade_levels),
            "courses" => Self::Courses(course_ids),
            "guardians" => Self::Guardians(guardian_ids),
            _ => Self::School,
        }
    }

    pub fn to_proto(&self) -> pb::AnnouncementAudience {
        pb::AnnouncementAudience {
            kind: self.kind().to_owned(),
            grade_levels: self.grade_levels().to_vec(),
            course_ids: self.course_ids().iter().map(Uuid::to_string).collect(),
            guardian_ids: self.guardian_ids().iter().map(Uuid::to_string).collect(),
        }
    }
}

/// Ids of `field`: 1 to `max`, each a UUID. Kept as sent, duplicates
/// included, so a later error names the position the client sent (the
/// audience's statements match with `= ANY`, where a duplicate changes
/// nothing).
fn ids(v: &mut Violations, field: &str, raw: &[String], max: usize) -> Vec<Uuid> {
    if raw.is_empty() || raw.len() > max {
        v.add(field, format!("must hold 1 to {max} ids"));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        match platform::text::parse_uuid(r) {
            Some(id) => out.push(id),
            None => v.add(&format!("{field}[{i}]"), "must be a UUID"),
        }
    }
    out
}

fn must_be_empty(v: &mut Violations, field: &str, empty: bool, kind: &str) {
    if !empty {
        v.add(field, format!("must be empty for the audience kind {kind}"));
    }
}

fn audience(v: &mut Violations, a: Option<&pb::AnnouncementAudience>) -> Option<Audience> {
    let Some(a) = a else {
        v.add("audience", "is required");
        return None;
    };
    let kind = a.kind.as_str();
    let (levels, courses, guardians) = (
        a.grade_levels.is_empty(),
        a.course_ids.is_empty(),
        a.guardian_ids.is_empty(),
    );
    let out = match kind {
        "school" => Audience::School,
        "grade_levels" => {
            let n = (l::GRADE_LEVEL_MAX - l::GRADE_LEVEL_MIN + 1) as usize;
            if levels || a.grade_levels.len() > n {
                v.add(
                    "audience.grade_levels",
                    format!("must hold 1 to {n} grade levels"),
                );
            }
            let mut out = Vec::new();
            for (i, g) in a.grade_levels.iter().enumerate() {
                if !(l::GRADE_LEVEL_MIN..=l::GRADE_LEVEL_MAX).contains(g) {
                    v.add(
                        &format!("audience.grade_levels[{i}]"),
                        format!("must be {} to {}", l::GRADE_LEVEL_MIN, l::GRADE_LEVEL_MAX),
                    );
                } else if !out.contains(g) {
                    out.push(*g);
                }
            }
            Audience::GradeLevels(out)
        }
        "courses" => Audience::Courses(ids(
            v,
            "audience.course_ids",
            &a.course_ids,
            l::MAX_AUDIENCE_COURSES,
        )),
        "guardians" => Audience::Guardians(ids(
            v,
            "audience.guardian_ids",
            &a.guardian_ids,
            l::MAX_AUDIENCE_GUARDIANS,
        )),
        _ => {
            v.add(
                "audience.kind",
                "must be school, grade_levels, courses or guardians",
            );
            return None;
        }
    };
    if kind != "grade_levels" {
        must_be_empty(v, "audience.grade_levels", levels, kind);
    }
    if kind != "courses" {
        must_be_empty(v, "audience.course_ids", courses, kind);
    }
    if kind != "guardians" {
        must_be_empty(v, "audience.guardian_ids", guardians, kind);
    }
    Some(out)
}

/// The title: display text (something visible, no control or
/// bidirectional control character), at most [`l::TITLE_MAX`] characters as
/// sent; stored trimmed.
fn title(raw: &str) -> Result<String, String> {
    if raw.chars().count() > l::TITLE_MAX {
        return Err(format!("must be at most {} characters", l::TITLE_MAX));
    }
    platform::text::display_text(raw, "title").map(str::to_owned)
}

/// The body: 1 to [`l::ANNOUNCEMENT_BODY_MAX`] characters as sent, not only
/// white space; line breaks and tabs are its only control characters.
fn body(raw: &str) -> Result<String, String> {
    if raw.chars().count() > l::ANNOUNCEMENT_BODY_MAX {
        return Err(format!(
            "must be at most {} characters",
            l::ANNOUNCEMENT_BODY_MAX
        ));
    }
    if raw.trim().is_empty() {
        return Err("body is required".into());
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters besides line breaks and tabs".into());
    }
    Ok(raw.to_owned())
}

#[derive(Clone, Debug)]
pub struct NewAnnouncement {
    pub title: String,
    pub body: String,
    pub audience: Audience,
}

impl TryFrom<pb::CreateAnnouncementRequest> for NewAnnouncement {
    type Error = ServiceError;
    fn try_from(r: pb::CreateAnnouncementRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let title = v.take("title", title(&r.title));
        let body = v.take("body", body(&r.body));
        let audience = audience(&mut v, r.audience.as_ref());
        v.finish()?;
        match (title, body, audience) {
            (Some(title), Some(body), Some(audience)) => Ok(Self {
                title,
                body,
                audience,
            }),
            _ => Err(nothing()),
        }
    }
}

/// Position after the last announcement of a page (ids are UUIDv7: newest
/// first is id order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub id: Uuid,
}

impl Keyset for Cursor {
    const TAG: &'static str = "a";
}

#[derive(Debug)]
pub struct ListRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl TryFrom<pb::ListAnnouncementsRequest> for ListRequest {
    type Error = ServiceError;
    fn try_from(r: pb::ListAnnouncementsRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<Cursor>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self { limit, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    fn request(
        kind: &str,
        levels: Vec<i32>,
        courses: Vec<String>,
    ) -> pb::CreateAnnouncementRequest {
        pb::CreateAnnouncementRequest {
            title: "Sports day".into(),
            body: "Bring a hat.\nAnd water.".into(),
            audience: Some(pb::AnnouncementAudience {
                kind: kind.into(),
                grade_levels: levels,
                course_ids: courses,
                guardian_ids: Vec::new(),
            }),
        }
    }

    fn fields(e: ServiceError) -> Vec<String> {
        let status = tonic::Status::from(e);
        let mut f: Vec<String> = status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        f.sort();
        f
    }

    #[test]
    fn audiences_are_parsed_grade_levels_deduplicated() {
        let a = NewAnnouncement::try_from(request("grade_levels", vec![3, 4, 3], vec![])).unwrap();
        assert_eq!(a.audience, Audience::GradeLevels(vec![3, 4]));
        assert_eq!(a.body, "Bring a hat.\nAnd water.");
        let id = Uuid::now_v7();
        let a = NewAnnouncement::try_from(request(
            "courses",
            vec![],
            vec![id.to_string(), id.to_string()],
        ))
        .unwrap();
        assert_eq!(a.audience, Audience::Courses(vec![id, id]));
        let a = NewAnnouncement::try_from(request("school", vec![], vec![])).unwrap();
        assert_eq!(a.audience.to_proto().kind, "school");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut r = request("grade_levels", vec![13], vec!["x".into()]);
        r.title = " ".into();
        r.body = "x".repeat(l::ANNOUNCEMENT_BODY_MAX + 1);
        let e = NewAnnouncement::try_from(r).unwrap_err();
        assert_eq!(
            fields(e),
            [
                "audience.course_ids",
                "audience.grade_levels[0]",
                "body",
                "title"
            ]
        );
        let e = NewAnnouncement::try_from(request("courses", vec![], vec![])).unwrap_err();
        assert_eq!(fields(e), ["audience.course_ids"]);
        let e = NewAnnouncement::try_from(request("everyone", vec![], vec![])).unwrap_err();
        assert_eq!(fields(e), ["audience.kind"]);
        let mut r = request("school", vec![], vec![]);
        r.audience = None;
        r.title = "x".repeat(l::TITLE_MAX + 1);
        r.body = "bell\u{7}".into();
        assert_eq!(
            fields(NewAnnouncement::try_from(r).unwrap_err()),
            ["audience", "body", "title"]
        );
    }
}
