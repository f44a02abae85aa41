-- A decision signed while rehearsing: the drill run it answered. Drill
-- decisions stay in the audit trail (and in the drill's report) but leave
-- the Approvals list once the drill ends (issue 19), so a rehearsal is never
-- mistaken for real work.
ALTER TABLE decisions ADD COLUMN drill_run TEXT;
