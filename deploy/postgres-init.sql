-- compose.yaml: the application role Berth's processes connect as (the owner,
-- berth_owner, is the image's POSTGRES_USER). `berth migrate` grants it its rights.
CREATE ROLE berth_app LOGIN PASSWORD 'berth_app';
