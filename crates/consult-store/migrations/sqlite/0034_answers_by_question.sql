-- Answer rows are found by activity and question (the uncoded answers of a free-text question)
-- or by response (the primary key); the analysis reads its tallies (migration 0024), not the
-- rows. The index by activity, question, item and number kept for counting is narrowed to what
-- is looked up: each of the millions of rows an import writes adds less to it.
DROP INDEX response_answers_analysis;
CREATE INDEX response_answers_question ON response_answers (consultation_id, question);
