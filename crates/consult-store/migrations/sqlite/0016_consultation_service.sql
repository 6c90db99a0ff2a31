-- The owning service, as a column the register can filter on (it is also in the plan).
ALTER TABLE consultations ADD COLUMN service TEXT;
UPDATE consultations SET service = json_extract(plan, '$.service');
CREATE INDEX consultations_service ON consultations (lower(service));
