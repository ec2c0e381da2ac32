//! Limits on what clients send, in one place: the services validate with
//! them and the gateway's OpenAPI document states them, so the document and
//! the server cannot disagree.

/// A person's given or family name, and a user's full name (characters).
pub const PERSON_NAME_MAX: usize = 100;
/// A school's display name (characters).
pub const SCHOOL_NAME_MAX: usize = 200;
/// School slug: `SLUG_MIN..=SLUG_MAX` of `a-z 0-9` and inner hyphens.
pub const SLUG_MIN: usize = 3;
pub const SLUG_MAX: usize = 40;
/// E-mail address (bytes, after trimming) and its local part.
pub const EMAIL_MAX: usize = 254;
pub const EMAIL_LOCAL_MAX: usize = 64;
/// New passwords (characters).
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
/// Admission numbers: 1 to this many of letters, digits, `-`, `/`, `.`.
pub const ADMISSION_NO_MAX: usize = 32;
/// Grade levels: kindergarten (0) to 12.
pub const GRADE_LEVEL_MIN: i32 = 0;
pub const GRADE_LEVEL_MAX: i32 = 12;
/// Class section: at most this many letters, digits or `-`.
pub const SECTION_MAX: usize = 16;
/// A list's search text `q` (characters).
pub const SEARCH_MAX: usize = 64;
/// Page size of every list: `1..=PAGE_MAX`.
pub const PAGE_MAX: u32 = 100;
/// Entries of one attendance marking or grade recording.
pub const MAX_ENTRIES: usize = 500;
/// Lines of one invoice.
pub const MAX_LINES: usize = 100;

/// JSON-Schema (ECMA-262) pattern of [`crate::text::parse_uuid`]'s canonical form.
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// Pattern of [`crate::text::parse_date`]'s shape (every digit written).
pub const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// Pattern of display text as [`crate::text::display_text`] takes it: no
/// control or bidirectional control character, and at least one character
/// that is neither a space nor invisible.
pub const DISPLAY_TEXT_PATTERN: &str = concat!(
    "^[^\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069]*",
    "[^\\s\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069",
    "\\u00AD\\u034F\\u115F\\u1160\\u180E\\u200B-\\u200D\\u2060-\\u2064\\u3164\\uFEFF\\uFFA0]",
    "[^\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069]*$"
);
/// Pattern of a slug (lower case only: the server also folds upper case).
pub const SLUG_PATTERN: &str = "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$";
/// Pattern of an admission or employee number.
pub const ADMISSION_NO_PATTERN: &str = "^[A-Za-z0-9./-]+$";
/// Pattern of a section (ASCII: the server also takes other letters).
pub const SECTION_PATTERN: &str = "^[A-Za-z0-9-]*$";
/// Pattern of an e-mail address as the services take it: one `@`, a dotted
/// domain, no spaces or control characters.
pub const EMAIL_PATTERN: &str =
    "^[^\\s\\u0000-\\u001F\\u007F-\\u009F@]{1,64}@[^\\s\\u0000-\\u001F\\u007F-\\u009F@.][^\\s\\u0000-\\u001F\\u007F-\\u009F@]*\\.[^\\s\\u0000-\\u001F\\u007F-\\u009F@.]+$";

/// Course codes: 1 to this many of letters, digits, `-`, `.`.
pub const COURSE_CODE_MAX: usize = 20;
/// Course names, assessment titles, school names (characters).
pub const TITLE_MAX: usize = 200;
/// Seats in a course.
pub const CAPACITY_MAX: i32 = 500;
/// A timetable slot's room (characters).
pub const ROOM_MAX: usize = 40;
/// An attendance note or override reason (characters).
pub const NOTE_MAX: usize = 500;
/// An assessment's description (characters).
pub const DESCRIPTION_MAX: usize = 2000;
/// An assessment's max score, in points (two decimals).
pub const MAX_SCORE_MAX: i32 = 1000;
/// An assessment's weight, in percent (two decimals).
pub const WEIGHT_MAX: i32 = 100;
/// Invoice line text (characters).
pub const LINE_DESCRIPTION_MAX: usize = 200;
/// Units on one invoice line.
pub const QUANTITY_MAX: i32 = 1000;
/// The largest invoice total and payment, in minor units (10^12).
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;
/// A payment reference (characters).
pub const REFERENCE_MAX: usize = 100;
/// A teacher's subjects: at most this many, each of at most `SUBJECT_MAX` characters.
pub const MAX_SUBJECTS: usize = 20;
pub const SUBJECT_MAX: usize = 40;
/// Notification ids in one mark-read call.
pub const MAX_MARK_READ: usize = 100;
/// An announcement's body, in characters (its title is at most
/// [`TITLE_MAX`]).
pub const ANNOUNCEMENT_BODY_MAX: usize = 5000;
/// Courses an announcement's audience may name.
pub const MAX_AUDIENCE_COURSES: usize = 100;
/// Guardians an announcement's audience may name.
pub const MAX_AUDIENCE_GUARDIANS: usize = 1000;
/// Pattern of an E.164 phone number: `+`, then 8-15 digits, the first not 0.
pub const PHONE_PATTERN: &str = "^\\+[1-9][0-9]{7,14}$";
/// Pattern of a course code.
pub const COURSE_CODE_PATTERN: &str = "^[A-Za-z0-9.-]+$";
/// Pattern of a term: a year 2000-2100, `-T`, 1-6.
pub const TERM_PATTERN: &str = "^(?:20[0-9]{2}|2100)-T[1-6]$";
/// Pattern of a time of day `HH:MM`.
pub const TIME_PATTERN: &str = "^(?:[01][0-9]|2[0-3]):[0-5][0-9]$";
/// Pattern of an idempotency key: 1-255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[\\x21-\\x7E]{1,255}$";
