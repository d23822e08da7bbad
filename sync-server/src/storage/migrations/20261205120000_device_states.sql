-- Lost-device wipe (see sync-server/src/devices.rs): when an admin reported
-- the device lost, and when the device reported that it erased its data.
-- A change in the log from a device whose `lost_at` is at or before the
-- change's `received_at` came from a lost device and is flagged for review.
ALTER TABLE devices ADD COLUMN lost_at INTEGER;
ALTER TABLE devices ADD COLUMN wiped_at INTEGER;
CREATE INDEX devices_lost ON devices (lost_at) WHERE lost_at IS NOT NULL;
