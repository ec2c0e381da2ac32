-- Links are ordered by the version students-svc gives each link and unlink
-- of a guardian and student: an unlink is kept as a tombstone (linked =
-- false) so that a late, older `guardian.linked` cannot bring it back (a
-- retried link event arriving after an unlink used to make an unlinked
-- guardian receive alerts again). Events from before versions existed carry
-- 0 and apply as before.
ALTER TABLE guardian_students
    ADD COLUMN version bigint  NOT NULL DEFAULT 0,
    ADD COLUMN linked  boolean NOT NULL DEFAULT true;
