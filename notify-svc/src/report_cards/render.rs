//! The PDF: one A4 page in the standard Helvetica (a font every PDF reader
//! has, so nothing is embedded and a card is a few KB). Text is written in
//! WinAnsiEncoding, which covers the Latin scripts; a character outside it
//! is shown as `?`. CPU work only: the runner calls it on the blocking pool
//! under the concurrency limit.

use chrono::NaiveDate;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// One course of the term, from the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseLine {
    pub code: String,
    pub name: String,
    /// Hundredths of a percent, weighted by assessment weight.
    pub average: u32,
    /// Graded assessments counted in the average.
    pub graded: u32,
    /// Hundredths of a percent, this school year.
    pub attendance_rate: u32,
}

/// The school year's attendance in sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attendance {
    pub present: u32,
    pub late: u32,
    pub absent: u32,
    pub excused: u32,
    /// Hundredths of a percent.
    pub rate: u32,
}

/// Everything printed on a card.
#[derive(Clone, Debug)]
pub struct CardContent {
    pub school: String,
    pub term: String,
    pub student_name: String,
    pub grade_level: i32,
    pub section: String,
    /// The term's courses, by code.
    pub courses: Vec<CourseLine>,
    pub attendance: Attendance,
    pub issued_on: NaiveDate,
}

impl CardContent {
    /// No course of the term has a graded assessment.
    pub fn has_grades(&self) -> bool {
        self.courses.iter().any(|c| c.graded > 0)
    }
}

/// The sentence a card without grades carries.
pub const NO_GRADES: &str = "No grades have been recorded for this term.";

/// `9523` → `95.23 %`.
pub fn percent(hundredths: u32) -> String {
    format!("{}.{:02} %", hundredths / 100, hundredths % 100)
}

const A4: (f32, f32) = (595.0, 842.0);
const LEFT: f32 = 56.0;
const RIGHT: f32 = A4.0 - 56.0;
/// Course rows that fit above the attendance and remarks blocks.
const MAX_ROWS: usize = 24;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// `s` in WinAnsiEncoding (`?` for what it lacks), at most `max` characters
/// (an ellipsis marks a cut).
fn win_ansi(s: &str, max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len().min(max));
    let count = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        if i + 1 == max && count > max {
            out.push(0x85); // …
            break;
        }
        let b = match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            'Š' => 0x8a,
            'š' => 0x9a,
            'Œ' => 0x8c,
            'œ' => 0x9c,
            'Ž' => 0x8e,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            c if c.is_control() => b' ',
            _ => b'?',
        };
        out.push(b);
    }
    out
}

/// Writes lines of text top-down.
struct Page {
    c: Content,
    y: f32,
}

impl Page {
    fn text(&mut self, font: Name, size: f32, x: f32, text: &str, max: usize) {
        self.c.begin_text();
        self.c.set_font(font, size);
        self.c.next_line(x, self.y);
        self.c.show(Str(&win_ansi(text, max)));
        self.c.end_text();
    }

    fn down(&mut self, by: f32) {
        self.y -= by;
    }

    fn rule(&mut self, width: f32) {
        self.c.set_line_width(width);
        self.c.move_to(LEFT, self.y);
        self.c.line_to(RIGHT, self.y);
        self.c.stroke();
    }
}

/// The card as a PDF file.
pub fn render(card: &CardContent) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page_id = Ref::new(3);
    let regular = Ref::new(4);
    let bold = Ref::new(5);
    let contents = Ref::new(6);
    let info = Ref::new(7);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, A4.0, A4.1));
    page.parent(tree);
    page.contents(contents);
    {
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(REGULAR, regular);
        fonts.pair(BOLD, bold);
    }
    page.finish();
    for (id, name) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(name.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let title = format!("Report card {} - {}", card.term, card.student_name);
    pdf.document_info(info)
        .title(pdf_writer::TextStr(&title))
        .producer(pdf_writer::TextStr("Schoolhouse notify-svc"));

    let mut p = Page {
        c: Content::new(),
        y: A4.1 - 64.0,
    };
    p.text(BOLD, 18.0, LEFT, &card.school, 50);
    p.down(24.0);
    p.text(
        REGULAR,
        13.0,
        LEFT,
        &format!("Report card, term {}", card.term),
        60,
    );
    p.down(12.0);
    p.rule(1.0);
    p.down(24.0);
    p.text(BOLD, 12.0, LEFT, "Student", 20);
    p.text(REGULAR, 12.0, LEFT + 90.0, &card.student_name, 60);
    p.down(17.0);
    p.text(BOLD, 12.0, LEFT, "Grade", 20);
    let grade = if card.section.is_empty() {
        card.grade_level.to_string()
    } else {
        format!("{}, section {}", card.grade_level, card.section)
    };
    p.text(REGULAR, 12.0, LEFT + 90.0, &grade, 40);
    p.down(17.0);
    p.text(BOLD, 12.0, LEFT, "Issued", 20);
    p.text(REGULAR, 12.0, LEFT + 90.0, &card.issued_on.to_string(), 20);
    p.down(32.0);

    p.text(BOLD, 13.0, LEFT, "Courses", 20);
    p.down(20.0);
    let cols = [LEFT, LEFT + 70.0, LEFT + 270.0, LEFT + 345.0, LEFT + 420.0];
    for (x, h) in cols
        .iter()
        .zip(["Code", "Course", "Average", "Assessments", "Attendance"])
    {
        p.text(BOLD, 10.0, *x, h, 20);
    }
    p.down(6.0);
    p.rule(0.5);
    p.down(14.0);
    if !card.has_grades() {
        p.text(REGULAR, 11.0, LEFT, NO_GRADES, 90);
        p.down(18.0);
    }
    for c in card.courses.iter().take(MAX_ROWS) {
        let avg = if c.graded > 0 {
            percent(c.average)
        } else {
            "-".to_owned()
        };
        p.text(REGULAR, 10.0, cols[0], &c.code, 12);
        p.text(REGULAR, 10.0, cols[1], &c.name, 36);
        p.text(REGULAR, 10.0, cols[2], &avg, 12);
        p.text(REGULAR, 10.0, cols[3], &format!("{} graded", c.graded), 14);
        p.text(REGULAR, 10.0, cols[4], &percent(c.attendance_rate), 12);
        p.down(15.0);
    }
    if card.courses.len() > MAX_ROWS {
        let more = card.courses.len() - MAX_ROWS;
        p.text(
            REGULAR,
            10.0,
            LEFT,
            &format!("... and {more} more courses"),
            40,
        );
        p.down(15.0);
    }
    p.down(16.0);

    let a = &card.attendance;
    p.text(BOLD, 13.0, LEFT, "Attendance this school year", 40);
    p.down(18.0);
    p.text(
        REGULAR,
        11.0,
        LEFT,
        &format!(
            "Present {}   Late {}   Absent {}   Excused {}   Rate {}",
            a.present,
            a.late,
            a.absent,
            a.excused,
            percent(a.rate)
        ),
        100,
    );
    p.down(32.0);

    p.text(BOLD, 13.0, LEFT, "Remarks", 20);
    p.down(10.0);
    let box_height = 120.0_f32.min(p.y - 90.0).max(40.0);
    p.c.set_line_width(0.5);
    p.c.rect(LEFT, p.y - box_height, RIGHT - LEFT, box_height);
    p.c.stroke();
    p.down(box_height + 36.0);
    p.text(
        REGULAR,
        10.0,
        LEFT,
        "Class teacher: ______________________",
        60,
    );
    p.text(
        REGULAR,
        10.0,
        LEFT + 260.0,
        "Principal: ______________________",
        60,
    );

    pdf.stream(contents, &p.c.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_win_ansi_and_bounded() {
        assert_eq!(win_ansi("Zoë – 5€", 20), b"Zo\xeb \x96 5\x80".to_vec());
        assert_eq!(win_ansi("日本", 20), b"??".to_vec());
        assert_eq!(win_ansi("abcdef", 4), b"abc\x85".to_vec());
        assert_eq!(percent(9523), "95.23 %");
        assert_eq!(percent(5), "0.05 %");
    }

    #[test]
    fn renders_a_pdf_file() {
        let card = CardContent {
            school: "North".into(),
            term: "2026-T1".into(),
            student_name: "Ada Lovelace".into(),
            grade_level: 5,
            section: "B".into(),
            courses: vec![CourseLine {
                code: "MATH-1".into(),
                name: "Mathematics".into(),
                average: 8750,
                graded: 2,
                attendance_rate: 10_000,
            }],
            attendance: Attendance::default(),
            issued_on: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        };
        let pdf = render(&card);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 20_000, "{}", pdf.len());
    }
}
