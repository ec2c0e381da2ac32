-- A guardian's preferred language for notices (ISO 639-1, lowercase);
-- NULL: the school's language.
ALTER TABLE guardians ADD COLUMN preferred_language text
    CHECK (preferred_language ~ '^[a-z]{2}$');
