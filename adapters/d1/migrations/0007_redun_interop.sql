-- redun-edge D1 schema, version 7: records imported from redun.
--
-- - tasks, value_records, call_nodes, evaluations: `redun`, the JSON of a
--   record's RedunOrigin (core/records.ts) when it came from a redun
--   database, NULL otherwise. Its id is redun's, verified by redun's formulas.
-- - tags: `value_text`, Python's JSON text of the value when the value cannot
--   give it back (`1.0`, `1e+20`, `NaN`, an integer past 2^53), '' otherwise
--   (no JSON text is empty). A tag's id is redun's hash of that text.
-- - tags_entity gains value_text as its last column, so a page's tags are
--   still read from the index alone (context-sql.ts) with the text redun
--   shows. Unique as before: the id, in it, determines the text (which is
--   why it is '' and not NULL when absent: NULLs never collide, and a second
--   push of a stored tag must).
ALTER TABLE tasks ADD COLUMN redun TEXT;
ALTER TABLE value_records ADD COLUMN redun TEXT;
ALTER TABLE call_nodes ADD COLUMN redun TEXT;
ALTER TABLE evaluations ADD COLUMN redun TEXT;
ALTER TABLE tags ADD COLUMN value_text TEXT NOT NULL DEFAULT '';

DROP INDEX tags_entity;
CREATE UNIQUE INDEX tags_entity ON tags (entity_time, entity_id, key, value_json, current, id, value_text);
