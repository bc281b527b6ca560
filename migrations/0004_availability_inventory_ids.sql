-- Events after NightInventory.Opened carry only the inventory's id (a uuid5 of pool
-- and night), so the availability projection keeps it on the night's row to find
-- the (pool, night) of later CapacitySet, Allocated, Firmed and Released events.
ALTER TABLE availability_nights ADD COLUMN inventory_id uuid;
CREATE UNIQUE INDEX availability_nights_inventory_id_idx ON availability_nights (inventory_id);
