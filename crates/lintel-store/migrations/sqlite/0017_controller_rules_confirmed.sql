-- When the server last saw a controller holding the rules it would send it: the controller
-- keeps deciding offline until the site's offline_rules_max_days after that.
ALTER TABLE controllers ADD COLUMN rules_confirmed_at TEXT;
