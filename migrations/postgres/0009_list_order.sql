-- The identity and service lists are read a page at a time in their shown
-- order, most critical first (issue 20: a 250k-identity inventory opens on
-- its first page): these indexes let a page be read by a range scan that
-- stops after the page, instead of sorting the whole table per page.
CREATE INDEX identities_in_list_order ON identities (tier, name, id);
CREATE INDEX services_in_list_order ON services (tier, name, id);
