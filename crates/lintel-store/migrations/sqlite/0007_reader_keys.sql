-- A secret per door for reader proofs: a reader (or, until readers do, the server) signs a
-- short-lived proof of presence with it; phone unlocks at doors that require the reader carry
-- one. Made when first needed.

ALTER TABLE doors ADD COLUMN reader_key BLOB;
