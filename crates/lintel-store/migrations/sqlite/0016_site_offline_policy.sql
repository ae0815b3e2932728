-- Each site's offline policy: how many days its controllers keep deciding from rules the
-- server has not confirmed; past that they open nothing (`rules_stale`).
ALTER TABLE sites ADD COLUMN offline_rules_max_days INTEGER NOT NULL DEFAULT 30;
