DROP TABLE app.memberships; DROP SCHEMA app; DROP TABLE users;
