-- redun-edge D1 schema, version 4: two fewer tag index entries per write.
--
-- Every tag write updated five b-trees (the table and four indexes); a push
-- spends most of its time there. Two of them go:
--
-- - tags_k (key, entity_type, entity_time, entity_id): key-only filters now
--   walk the entities newest first and probe tags_entity (entity_time,
--   entity_id, key, ...) per entity when the key is common, or read tags_kv's
--   entries of the key and sort them when it is rare (the query's plan
--   guard picks by the key's count, query-sql.ts).
-- - tags_id_bucket (substr(id, 1, 2), seq, id) becomes tags_id_prefix
--   (substr(id, 1, 8)): a third of the bytes per entry. A tag by id is one
--   seek and a row read; an id prefix of any length is a range of it.
--   Readers must write the expression exactly so for SQLite to use it.
--
-- Measured in workerd over a local D1 (BENCHMARKS.md): SQLite time per push
-- of 20,000 tags about a third lower.
DROP INDEX tags_k;
DROP INDEX tags_id_bucket;
CREATE INDEX tags_id_prefix ON tags (substr(id, 1, 8));
