// @generated automatically by Diesel CLI.

diesel::table! {
    login_throttle (key) {
        key -> Text,
        attempts -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    service_clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        audiences -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Integer,
        refresh_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        user_agent -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        generation -> BigInt,
        alg -> Text,
        public_jwk -> Text,
        private_key -> Text,
        created_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        retired_at -> Nullable<Timestamp>,
        remove_after -> Nullable<Timestamp>,
    }
}

diesel::table! {
    spent_refresh_secrets (secret_hash) {
        secret_hash -> Text,
        session_id -> Text,
        expires_at -> Timestamp,
        rotated_at -> Timestamp,
    }
}

diesel::table! {
    store_meta (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        username_key -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        tokens_not_before -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    login_throttle,
    service_clients,
    sessions,
    signing_keys,
    spent_refresh_secrets,
    store_meta,
    users,
);
