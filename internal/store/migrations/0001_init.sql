-- The hub's initial schema. {{id}}, {{text}} and {{blob}} stand for the
-- dialect's types of an auto-incrementing primary key, of text that
-- compares bytewise and of byte strings. In SQLite they are INTEGER
-- PRIMARY KEY AUTOINCREMENT, TEXT and BLOB. Timestamps are UTC text in the
-- fixed-width form 2006-01-02T15:04:05.000000Z, lists of scopes are JSON
-- arrays, and NULL timestamps mean "never".

CREATE TABLE users (
    id {{id}},
    name {{text}} NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created {{text}} NOT NULL,
    last_activity {{text}},
    cookie_id {{text}} NOT NULL UNIQUE,
    password_hash {{text}} NOT NULL DEFAULT '',
    auth_state {{blob}}
);

CREATE TABLE groups (
    id {{id}},
    name {{text}} NOT NULL UNIQUE,
    properties {{text}} NOT NULL DEFAULT '{}'
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);

CREATE TABLE services (
    id {{id}},
    name {{text}} NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    url {{text}} NOT NULL DEFAULT '',
    oauth_client_id {{text}} NOT NULL DEFAULT '',
    from_config BOOLEAN NOT NULL DEFAULT FALSE,
    created {{text}} NOT NULL
);

CREATE TABLE servers (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name {{text}} NOT NULL,
    display_name {{text}} NOT NULL DEFAULT '',
    started {{text}},
    last_activity {{text}},
    pending {{text}} NOT NULL DEFAULT '',
    url {{text}} NOT NULL DEFAULT '',
    user_options {{text}},
    state {{text}},
    UNIQUE (user_id, name)
);

CREATE TABLE oauth_clients (
    id {{id}},
    client_id {{text}} NOT NULL UNIQUE,
    secret_hash {{text}} NOT NULL DEFAULT '',
    description {{text}} NOT NULL DEFAULT '',
    redirect_uri {{text}} NOT NULL DEFAULT '',
    allowed_scopes {{text}} NOT NULL DEFAULT '[]',
    created {{text}} NOT NULL
);

CREATE TABLE api_tokens (
    id {{id}},
    prefix {{text}} NOT NULL,
    hash {{text}} NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    service_id BIGINT REFERENCES services (id) ON DELETE CASCADE,
    scopes {{text}} NOT NULL DEFAULT '[]',
    note {{text}} NOT NULL DEFAULT '',
    created {{text}} NOT NULL,
    last_activity {{text}},
    expires_at {{text}},
    session_id {{text}} NOT NULL DEFAULT '',
    oauth_client_id {{text}} REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (service_id IS NULL))
);
CREATE INDEX api_tokens_prefix ON api_tokens (prefix);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
CREATE INDEX api_tokens_service_id ON api_tokens (service_id);
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);
CREATE INDEX api_tokens_oauth_client_id ON api_tokens (oauth_client_id);

CREATE TABLE oauth_codes (
    id {{id}},
    code_hash {{text}} NOT NULL UNIQUE,
    client_id {{text}} NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes {{text}} NOT NULL DEFAULT '[]',
    redirect_uri {{text}} NOT NULL DEFAULT '',
    session_id {{text}} NOT NULL DEFAULT '',
    code_challenge {{text}} NOT NULL DEFAULT '',
    code_challenge_method {{text}} NOT NULL DEFAULT '',
    created {{text}} NOT NULL,
    expires_at {{text}} NOT NULL
);
CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);

CREATE TABLE roles (
    id {{id}},
    name {{text}} NOT NULL UNIQUE,
    description {{text}} NOT NULL DEFAULT '',
    scopes {{text}} NOT NULL DEFAULT '[]'
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
