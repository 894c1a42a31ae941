-- redun-edge D1 schema, version 5: the tag indexes that take random inserts
-- are tables of their own, written once per write batch in key order.
--
-- Until version 4, current tags were indexed by (key, value_json, ...) and all
-- tags by substr(id, 1, 8) as indexes on `tags`, which SQLite updates row by
-- row in insert order. A push lists tags entity by entity, so consecutive
-- inserts hit ~20 far-apart (key, value) runs and random id positions: with
-- D1's 2 MB page cache, pages were evicted, spilled and read back many times
-- per batch, and the cost grew with the store (measured with the adapter's
-- own statements in SQLite 3.51, 2 MB cache: the 5th push of 22,000 records
-- took 240 ms, near 1,000,000 tags 690 ms).
--
-- Now each write batch ends by inserting its new tags into tag_kv and tag_ids
-- with one `INSERT ... SELECT ... ORDER BY` each, so every page of those
-- b-trees is visited once, in order (same measure: 150 ms, and 330 ms near
-- 1,000,000 tags). The tags table keeps its rowid (seq) order and its
-- (entity_time, entity_id, ...) index, which pushes already write in order.
--
-- - tag_kv: the current tags of stored entities, by (key, value_json,
--   entity_type, entity_time, entity_id, seq): what the tags_kv index was,
--   without the tags whose entity is not stored (entity_time NULL), which no
--   query can return. The write batch adds its own tags; triggers below add a
--   stored tag when its entity arrives, move it when the entity's time
--   changes, and drop it when the tag stops being current.
-- - tag_ids: (substr(id, 1, 8), seq) of every tag: a tag by id is one seek and
--   a row read; an id prefix of any length is a range of it.
CREATE TABLE tag_kv (
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_time INTEGER NOT NULL,
  entity_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (key, value_json, entity_type, entity_time, entity_id, seq)
) WITHOUT ROWID;

INSERT INTO tag_kv (key, value_json, entity_type, entity_time, entity_id, seq)
SELECT key, value_json, entity_type, entity_time, entity_id, seq FROM tags
WHERE current = 1 AND entity_time IS NOT NULL AND entity_id IS NOT NULL AND entity_type IS NOT NULL
ORDER BY 1, 2, 3, 4, 5, 6;

CREATE TABLE tag_ids (
  prefix TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (prefix, seq)
) WITHOUT ROWID;

INSERT INTO tag_ids (prefix, seq) SELECT substr(id, 1, 8), seq FROM tags ORDER BY 1, 2;

DROP INDEX tags_kv;
DROP INDEX tags_id_prefix;

-- A stored tag that stops being current leaves tag_kv (a tag of this batch,
-- seq past the counter, is not in it yet).
CREATE TRIGGER tags_kv_replaced AFTER UPDATE OF current ON tags
WHEN OLD.current = 1 AND NEW.current = 0 AND OLD.seq <= (SELECT value FROM counters WHERE name = 'seq')
BEGIN
  DELETE FROM tag_kv WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type
    AND entity_time = OLD.entity_time AND entity_id = OLD.entity_id AND seq = OLD.seq;
END;

-- A stored current tag enters tag_kv when its entity arrives, and moves when
-- the entity's time changes: both set tags.entity_time (version 3's triggers on
-- the entity tables). Tags of this batch enter at its end.
CREATE TRIGGER tags_kv_time AFTER UPDATE OF entity_time ON tags
WHEN NEW.current = 1 AND NEW.entity_time IS NOT NULL AND NEW.entity_id IS NOT NULL AND NEW.entity_type IS NOT NULL
  AND NEW.seq <= (SELECT value FROM counters WHERE name = 'seq')
BEGIN
  DELETE FROM tag_kv WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type
    AND entity_time = OLD.entity_time AND entity_id = OLD.entity_id AND seq = OLD.seq;
  INSERT INTO tag_kv (key, value_json, entity_type, entity_time, entity_id, seq)
  VALUES (NEW.key, NEW.value_json, NEW.entity_type, NEW.entity_time, NEW.entity_id, NEW.seq) ON CONFLICT DO NOTHING;
END;
