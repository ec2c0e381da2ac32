-- An admission number names one pupil whatever its case: "ab-12" and
-- "AB-12" typed by two secretaries must not become two students. The
-- unique constraint becomes a unique index on the lower-cased number, under
-- the same name, so a clash is still reported as `students_admission_no_key`.
-- The number is stored as it was typed. (A school that already holds two
-- numbers differing only by case must merge or rename one before this
-- migration can apply; it then fails without changing anything.)
ALTER TABLE students DROP CONSTRAINT students_admission_no_key;
CREATE UNIQUE INDEX students_admission_no_key ON students (school_id, lower(admission_no));
