-- 0007_dataplane_owner: the one row naming the process that runs the
-- embedded data plane of this store (brokers and the operations worker),
-- with the address its API listens on and the end of its lease
-- (microseconds since the epoch; 0 when released).

CREATE TABLE dataplane_owner (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL,
    addr        TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);
INSERT INTO dataplane_owner (id, holder, addr, lease_until) VALUES (1, '', '', 0);
