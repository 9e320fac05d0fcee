-- The hub's initial schema. {{id}} and {{blob}} stand for the dialect's
-- auto-incrementing primary key and byte string types. Timestamps are
-- UTC text in the fixed-width form 2006-01-02T15:04:05.000000Z, lists of
-- scopes are JSON arrays, and NULL timestamps mean "never".

CREATE TABLE users (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created TEXT NOT NULL,
    last_activity TEXT,
    cookie_id TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    auth_state {{blob}}
);

CREATE TABLE groups (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    properties TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);

CREATE TABLE services (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    url TEXT NOT NULL DEFAULT '',
    oauth_client_id TEXT NOT NULL DEFAULT '',
    from_config BOOLEAN NOT NULL DEFAULT FALSE,
    created TEXT NOT NULL
);

CREATE TABLE servers (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    started TEXT,
    last_activity TEXT,
    pending TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    user_options TEXT,
    state TEXT,
    UNIQUE (user_id, name)
);

CREATE TABLE oauth_clients (
    id {{id}},
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    redirect_uri TEXT NOT NULL DEFAULT '',
    allowed_scopes TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id {{id}},
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    service_id BIGINT REFERENCES services (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    last_activity TEXT,
    expires_at TEXT,
    session_id TEXT NOT NULL DEFAULT '',
    oauth_client_id TEXT REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (service_id IS NULL))
);
CREATE INDEX api_tokens_prefix ON api_tokens (prefix);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
CREATE INDEX api_tokens_service_id ON api_tokens (service_id);
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);
CREATE INDEX api_tokens_oauth_client_id ON api_tokens (oauth_client_id);

CREATE TABLE oauth_codes (
    id {{id}},
    code_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL DEFAULT '[]',
    redirect_uri TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);

CREATE TABLE roles (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    scopes TEXT NOT NULL DEFAULT '[]'
);

-- One grant table per kind of grantee, so that each has a real foreign
-- key and deleting the grantee deletes its grants.
CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE TABLE group_roles (
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE TABLE service_roles (
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, role_id)
);
CREATE TABLE token_roles (
    token_id BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, role_id)
);
CREATE INDEX user_roles_role_id ON user_roles (role_id);
CREATE INDEX group_roles_role_id ON group_roles (role_id);
CREATE INDEX service_roles_role_id ON service_roles (role_id);
CREATE INDEX token_roles_role_id ON token_roles (role_id);
