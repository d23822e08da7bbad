-- Every actor this store has made changes with. A tablet signed in again
-- gets a new actor from the server but keeps its store: changes it made
-- under an earlier actor are still its own (the repair path gives them
-- back to the outbox, and the server accepts a user's earlier enrolments).
CREATE TABLE own_actors (
    actor BLOB PRIMARY KEY
) STRICT;
