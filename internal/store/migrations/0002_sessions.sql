-- Login sessions: one row per browser login, which the login cookie names
-- by session_id. Logging out deletes the row, so a copy of the cookie
-- stops working too.

CREATE TABLE login_sessions (
    id {{id}},
    session_id {{text}} NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created {{text}} NOT NULL,
    expires_at {{text}} NOT NULL
);
CREATE INDEX login_sessions_user_id ON login_sessions (user_id);
CREATE INDEX login_sessions_expires_at ON login_sessions (expires_at);
