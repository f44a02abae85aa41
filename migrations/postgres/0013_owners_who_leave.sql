-- Owners who leave (issue 22): the day the organisation's directory
-- stopped listing an owner (src/model/owner.rs `left_on`), and on an
-- identity, the owner who left and since when (`orphaned`), set by
-- `countersign directory import` as it hands the identity on.
ALTER TABLE owners ADD COLUMN left_on TEXT COLLATE "C";
ALTER TABLE identities ADD COLUMN orphaned_from TEXT COLLATE "C";
ALTER TABLE identities ADD COLUMN orphaned_on TEXT COLLATE "C";
