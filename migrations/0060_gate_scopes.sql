-- Gates scoped per facility (issue 10).
--
-- Camera ids are chosen per facility: a camera is (facility_id, camera_id), and
-- after a re-key its previous secret is still accepted until previous_valid_until.
ALTER TABLE gate_cameras DROP CONSTRAINT gate_cameras_pkey;
ALTER TABLE gate_cameras
    ADD PRIMARY KEY (facility_id, camera_id),
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_valid_until timestamptz,
    ADD CONSTRAINT gate_cameras_previous_complete
        CHECK ((previous_secret IS NULL) = (previous_valid_until IS NULL));

-- Read ids are chosen per facility: the occupancy read model keys reads by both.
ALTER TABLE occupancy_reads DROP CONSTRAINT occupancy_reads_pkey;
ALTER TABLE occupancy_reads ADD PRIMARY KEY (facility_id, read_id);
CREATE INDEX occupancy_reads_read_id_idx ON occupancy_reads (read_id);  -- /reads/{id}/resolve
