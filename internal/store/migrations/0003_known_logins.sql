-- Client addresses that each user signed in from. The login limiter exempts
-- a user name and address pair found here from its limits per address and
-- per user name, and the hub keeps a few recent addresses per user.

CREATE TABLE known_logins (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address {{text}} NOT NULL,
    last_login {{text}} NOT NULL,
    UNIQUE (user_id, address)
);
