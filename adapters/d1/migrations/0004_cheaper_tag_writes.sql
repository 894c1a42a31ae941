-- redun-edge D1 schema, version 4: cheaper tag writes.
--
-- A push spends most of its SQLite time writing tags: the table and its
-- indexes, row by row. Version 4 writes less per tag:
--
-- - tags_k (key, entity_type, entity_time, entity_id) is gone: key-only
--   filters walk the entities newest first and probe tags_entity
--   (entity_time, entity_id, key, ...) per entity when the key is common, or
--   read tags_kv's entries of the key and sort them when it is rare (the
--   query's plan guard picks by the key's count, query-sql.ts).
-- - tags_id_bucket (substr(id, 1, 2), seq, id) becomes tags_id_prefix
--   (substr(id, 1, 8)): a third of the bytes per entry. A tag by id is one
--   seek and a row read; an id prefix of any length is a range of it.
--   Readers must write the expression exactly so for SQLite to use it.
-- - The CHECKs on entity_type and current are gone (the table is rebuilt for
--   that): the adapter checks every record's entity type before writing and
--   computes `current` itself, and the checks cost ~10% of a tag insert's
--   SQLite time. The NOT NULL constraints stay.
--
-- Measured in workerd over a local D1, interleaved A/B (BENCHMARKS.md): the
-- SQLite time of a push of 20,000 tags ~40% lower, with the writes' other
-- changes (jsonb_each, tags grouped by entity).
CREATE TABLE tags_v4 (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  time INTEGER NOT NULL,
  entity_type TEXT,
  entity_id TEXT,
  entity_time INTEGER,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  parents TEXT NOT NULL,
  current INTEGER NOT NULL
);

INSERT INTO tags_v4 (seq, id, time, entity_type, entity_id, entity_time, key, value_json, parents, current)
SELECT seq, id, time, entity_type, entity_id, entity_time, key, value_json, parents, current FROM tags ORDER BY seq;

-- The triggers that name `tags` go while it is rebuilt (a rename checks every
-- trigger of the schema) and come back unchanged.
DROP TRIGGER executions_tag_time;
DROP TRIGGER executions_tag_retime;
DROP TRIGGER jobs_tag_time;
DROP TRIGGER jobs_tag_retime;
DROP TRIGGER call_nodes_tag_time;
DROP TRIGGER tasks_tag_time;
DROP TRIGGER value_records_tag_time;
DROP TABLE tags;
ALTER TABLE tags_v4 RENAME TO tags;

CREATE UNIQUE INDEX tags_entity ON tags (entity_time, entity_id, key, value_json, current, id);
CREATE UNIQUE INDEX tags_pending ON tags (id) WHERE entity_time IS NULL;
CREATE INDEX tags_kv ON tags (key, value_json, entity_type, entity_time, entity_id) WHERE current = 1;
CREATE INDEX tags_id_prefix ON tags (substr(id, 1, 8));

-- As in versions 2 and 3: a tag that loses its currency is uncounted, when it was counted.
CREATE TRIGGER tags_count_replaced AFTER UPDATE OF current ON tags
WHEN OLD.current = 1 AND NEW.current = 0 AND OLD.entity_id IS NOT NULL AND OLD.entity_type IS NOT NULL
  AND OLD.seq <= (SELECT value FROM counters WHERE name = 'seq')
BEGIN
  UPDATE tag_key_counts SET n = n - 1 WHERE key = OLD.key AND entity_type = OLD.entity_type;
  UPDATE tag_value_counts SET n = n - 1 WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type;
END;

-- As in version 3: an entity's tags follow its time, set when it arrives, moved if it changes.
CREATE TRIGGER executions_tag_time AFTER INSERT ON executions BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Execution';
END;
CREATE TRIGGER executions_tag_retime AFTER UPDATE OF time ON executions WHEN OLD.time IS NOT NEW.time BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time = OLD.time AND entity_id = NEW.id AND entity_type = 'Execution';
END;
CREATE TRIGGER jobs_tag_time AFTER INSERT ON jobs BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Job';
END;
CREATE TRIGGER jobs_tag_retime AFTER UPDATE OF time ON jobs WHEN OLD.time IS NOT NEW.time BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time = OLD.time AND entity_id = NEW.id AND entity_type = 'Job';
END;
CREATE TRIGGER call_nodes_tag_time AFTER INSERT ON call_nodes BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'CallNode';
END;
CREATE TRIGGER tasks_tag_time AFTER INSERT ON tasks BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Task';
END;
CREATE TRIGGER value_records_tag_time AFTER INSERT ON value_records BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Value';
END;
