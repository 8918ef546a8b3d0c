-- 0004_operation_retries: when an operation may next be claimed. A worker
-- whose attempt ended without finishing the operation sets it to a backed-off
-- time; claims skip operations whose time has not come (0: at once).
ALTER TABLE operations ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
