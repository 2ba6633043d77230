-- The app's database user need not own the tables: migrations run as the owner,
-- the web and scheduler processes as promoplan_app with data rights only.
CREATE ROLE promoplan_owner LOGIN;
CREATE ROLE promoplan_app LOGIN;
CREATE DATABASE promoplan OWNER promoplan_owner;
\c promoplan
ALTER DEFAULT PRIVILEGES FOR ROLE promoplan_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO promoplan_app;
ALTER DEFAULT PRIVILEGES FOR ROLE promoplan_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO promoplan_app;
GRANT USAGE ON SCHEMA public TO promoplan_app;
-- then, as the owner: DATABASE_URL=postgresql://promoplan_owner@…/promoplan flask --app app db upgrade
