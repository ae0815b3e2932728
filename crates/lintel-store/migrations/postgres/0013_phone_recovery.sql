-- A sign-in that gives an account without a phone (its number was taken over by its new
-- owner) the phone the code went to: the way back for the previous owner of a recycled number.
ALTER TABLE sign_ins ADD COLUMN adds_phone BOOLEAN NOT NULL DEFAULT FALSE;
