-- Machine keys compare byte by byte (`COLLATE "C"`), as SQLite compares them and as Rust sorts
-- them: the keys of answer rows, monitoring answers and the analysis's tallies (question,
-- option and characteristic keys, GSS codes), residents' hashed and normalised contacts, the
-- outbox's idempotency keys, kinds and channels. None is a word sorted for a reader. The
-- database's own collation (C.UTF-8 or a language's) compares through the C library's strcoll:
-- storing the 2.3 million answer rows of an import spent more time comparing these keys in the
-- tables' indexes than writing the rows, and queueing 100,000 invitations as much again
-- (issues 16 and 17's benchmarks). Equality is unchanged (both collations are deterministic).
-- A collation change rebuilds the indexes; the rows are not rewritten.
ALTER TABLE response_answers
    ALTER COLUMN question TYPE TEXT COLLATE "C",
    ALTER COLUMN item TYPE TEXT COLLATE "C";
ALTER TABLE monitoring_answers
    ALTER COLUMN scheme TYPE TEXT COLLATE "C",
    ALTER COLUMN characteristic TYPE TEXT COLLATE "C",
    ALTER COLUMN category TYPE TEXT COLLATE "C";
ALTER TABLE answer_tallies
    ALTER COLUMN characteristic TYPE TEXT COLLATE "C",
    ALTER COLUMN category TYPE TEXT COLLATE "C",
    ALTER COLUMN question TYPE TEXT COLLATE "C",
    ALTER COLUMN item TYPE TEXT COLLATE "C";
ALTER TABLE residents
    ALTER COLUMN token_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN email_key TYPE TEXT COLLATE "C",
    ALTER COLUMN phone_key TYPE TEXT COLLATE "C",
    ALTER COLUMN verification_hash TYPE TEXT COLLATE "C";
ALTER TABLE contacts
    ALTER COLUMN kind TYPE TEXT COLLATE "C",
    ALTER COLUMN channel TYPE TEXT COLLATE "C";
ALTER TABLE outbox
    ALTER COLUMN idempotency_key TYPE TEXT COLLATE "C",
    ALTER COLUMN kind TYPE TEXT COLLATE "C",
    ALTER COLUMN channel TYPE TEXT COLLATE "C";
