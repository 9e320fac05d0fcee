-- Shares: a user's grant of scopes on one of the user's servers to another
-- user or to a group, and share codes, which a signed-in user exchanges for
-- a share of their own. scopes holds base scopes such as "access:servers",
-- without a filter: a share's scopes always apply to its one server, and
-- a rename of the owner or the server keeps them right. Deleting the
-- server, its owner, or the user or group shared with deletes the share.

CREATE TABLE shares (
    id {{id}},
    server_id BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES groups (id) ON DELETE CASCADE,
    scopes {{text}} NOT NULL DEFAULT '[]',
    created {{text}} NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (server_id, user_id),
    UNIQUE (server_id, group_id)
);
CREATE INDEX shares_user_id ON shares (user_id);
CREATE INDEX shares_group_id ON shares (group_id);

-- A share code is stored like an API token: a short clear prefix and a
-- salted hash.
CREATE TABLE share_codes (
    id {{id}},
    server_id BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    prefix {{text}} NOT NULL,
    hash {{text}} NOT NULL,
    scopes {{text}} NOT NULL DEFAULT '[]',
    created {{text}} NOT NULL,
    expires_at {{text}} NOT NULL,
    exchange_count BIGINT NOT NULL DEFAULT 0,
    last_exchanged {{text}}
);
CREATE INDEX share_codes_server_id ON share_codes (server_id);
CREATE INDEX share_codes_prefix ON share_codes (prefix);
CREATE INDEX share_codes_expires_at ON share_codes (expires_at);
