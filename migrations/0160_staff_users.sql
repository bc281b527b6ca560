-- Staff of the operations screen (berth.web): people who sign in with a password,
-- apart from the API keys machines use. Passwords are argon2id hashes (argon2-cffi);
-- repeated failures lock the account for a while. Sessions are kept as a sha256 of
-- the cookie's token, with the CSRF token every form of that session carries.
CREATE TABLE staff_users (
    username text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('operations', 'finance', 'auditor', 'admin')),
    password_hash text NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz
);

CREATE TABLE staff_sessions (
    session_hash text PRIMARY KEY,               -- sha256 of the cookie's token
    username text NOT NULL REFERENCES staff_users (username) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX staff_sessions_username_idx ON staff_sessions (username);
