//! Who may read a student's summary, and what they see.

use platform::{
    caller::{Caller, Role},
    service::ServiceError,
};
use uuid::Uuid;

/// Which grades a reader sees: staff see drafts too; students and
/// guardians see published grades only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradeView {
    All,
    Published,
}

/// What the caller's role allows before the student is looked up (the same
/// answers as students-svc's `GetStudent`: a student reading another is
/// PERMISSION_DENIED without a lookup).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Admin: any student of the school (another school's: NOT_FOUND).
    Any,
    /// A teacher: students enrolled in one of their courses.
    TeacherOf(Uuid),
    /// The student themself.
    Itself,
    /// A guardian login: linked children only.
    ChildrenOf(Uuid),
}

pub fn reach(caller: &Caller, student: Uuid) -> Result<(Reach, GradeView), ServiceError> {
    match caller.role {
        Role::Admin => Ok((Reach::Any, GradeView::All)),
        Role::Teacher => Ok((Reach::TeacherOf(caller.user_id), GradeView::All)),
        Role::Student if caller.student_id == Some(student) => {
            Ok((Reach::Itself, GradeView::Published))
        }
        // Someone else's summary is NOT_FOUND to a student, existing or
        // not, as students-svc answers for their record.
        Role::Student => Err(ServiceError::NotFound("student")),
        Role::Guardian => Ok((Reach::ChildrenOf(caller.user_id), GradeView::Published)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, student: Option<Uuid>) -> Caller {
        Caller {
            school_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            role,
            student_id: student,
        }
    }

    #[test]
    fn students_read_only_themselves_and_see_published_grades() {
        let me = Uuid::now_v7();
        let c = caller(Role::Student, Some(me));
        assert_eq!(
            reach(&c, me).unwrap(),
            (Reach::Itself, GradeView::Published)
        );
        assert!(matches!(
            reach(&c, Uuid::now_v7()),
            Err(ServiceError::NotFound(_))
        ));
        let g = caller(Role::Guardian, None);
        assert_eq!(reach(&g, me).unwrap().1, GradeView::Published);
        let a = caller(Role::Admin, None);
        assert_eq!(reach(&a, me).unwrap(), (Reach::Any, GradeView::All));
    }
}
