CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text NOT NULL,
    password_hash text NOT NULL);
CREATE SCHEMA app;
CREATE TABLE app.memberships (group_id int, user_id int, role text NOT NULL,
    tenant_id int NOT NULL, PRIMARY KEY (group_id, user_id));
