-- Each door's state as its controller last reported it (locked, unlocked, open, held_open,
-- forced_open), and why; the door.state_changed events in the log say how it got there. A
-- report older than the one kept (a controller handing over what it saw offline) does not
-- replace it.
CREATE TABLE door_states (
    org_id  BLOB NOT NULL,
    door_id BLOB NOT NULL,
    state   TEXT NOT NULL CHECK (state IN ('locked', 'unlocked', 'open', 'held_open', 'forced_open')),
    cause   TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (org_id, door_id),
    FOREIGN KEY (org_id, door_id) REFERENCES doors (org_id, id) ON DELETE CASCADE
);
