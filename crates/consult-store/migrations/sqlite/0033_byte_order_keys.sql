-- PostgreSQL's migration 0033 makes the keys of answer rows, monitoring answers and tallies
-- and other machine keys compare byte by byte; SQLite's text already does (BINARY). Nothing to change here.
SELECT 1;
