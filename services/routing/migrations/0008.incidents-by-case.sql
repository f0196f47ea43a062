-- A case's page asks whether the case ever had an incident (resolved ones included) before reading
-- them; the partial index of open incidents cannot answer that.
-- depends: 0007.case-current-elements

CREATE INDEX incidents_by_case ON incidents (case_id);
