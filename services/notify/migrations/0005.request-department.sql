-- The department whose manager a request is for, when it is not the complaint's own (a handler asked
-- another department to act: its manager is told). NULL: the complaint's department, as before.
-- depends: 0004.email-thread

ALTER TABLE requests ADD COLUMN department text;
