-- The language a person chose for pages ('en', 'sv' or 'fr'); NULL: their browser's.
ALTER TABLE accounts ADD COLUMN language TEXT;
