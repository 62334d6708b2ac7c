-- One database and one owner per service: each service owns its data and
-- cannot read another's. Passwords are for the compose stack only.
CREATE ROLE tia_activity LOGIN PASSWORD 'activity';
CREATE ROLE tia_statistics LOGIN PASSWORD 'statistics';
CREATE ROLE tia_travel LOGIN PASSWORD 'travel';
CREATE ROLE tia_notification LOGIN PASSWORD 'notification';
CREATE DATABASE activity OWNER tia_activity;
CREATE DATABASE statistics OWNER tia_statistics;
CREATE DATABASE travel OWNER tia_travel;
CREATE DATABASE notification OWNER tia_notification;
