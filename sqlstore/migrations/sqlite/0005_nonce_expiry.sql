-- 0004_nonce_expiry: a nonce is kept until its request's own timestamp has
-- left the accepted window, which for a request dated ahead of the server's
-- clock is later than the window after its use. Rows therefore record when
-- they expire; the rows of 0001 recorded when they were used, and kept them
-- 15 minutes (900000000 µs). nonce_counts counts each key's nonces by the
-- minute in which they expire, which bounds how many a key holds.
ALTER TABLE nonces RENAME COLUMN seen_at TO expires_at;
UPDATE nonces SET expires_at = expires_at + 900000000;
DROP INDEX nonces_seen_at;
CREATE INDEX nonces_expires_at ON nonces (expires_at);

CREATE TABLE nonce_counts (
	access_key_id TEXT    NOT NULL,
	bucket        INTEGER NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (access_key_id, bucket)
);
INSERT INTO nonce_counts (access_key_id, bucket, n)
	SELECT access_key_id, expires_at / 60000000, count(*) FROM nonces GROUP BY access_key_id, expires_at / 60000000;
