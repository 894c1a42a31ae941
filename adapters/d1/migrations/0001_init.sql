-- redun-edge D1 schema, version 1.
--
-- One table per record type. Every table has `seq`: the store's write
-- sequence (from `counters`), set on insert and bumped whenever an upsert
-- changes a mutable record; `exportSince` pages through it. `time` is the
-- newest-first sort key of queries, indexed with `id` as (time, id).
-- JSON columns hold JSON text written by the adapter.

CREATE TABLE counters (
  name TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('seq', 0);

CREATE TABLE executions (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  root_job_id TEXT NOT NULL,
  argv TEXT NOT NULL CHECK (json_type(argv) = 'array'),
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'DONE', 'FAILED')),
  seq INTEGER NOT NULL
);
CREATE INDEX executions_time ON executions (time, id);
CREATE INDEX executions_status ON executions (status, time, id);
CREATE INDEX executions_seq ON executions (seq, id);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  execution_id TEXT NOT NULL,
  parent_id TEXT,
  task_hash TEXT NOT NULL,
  call_hash TEXT,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'DONE', 'CACHED', 'FAILED')),
  error TEXT,
  seq INTEGER NOT NULL
);
CREATE INDEX jobs_time ON jobs (time, id);
CREATE INDEX jobs_execution ON jobs (execution_id, start_time, id);
CREATE INDEX jobs_task ON jobs (task_hash);
CREATE INDEX jobs_call ON jobs (call_hash);
CREATE INDEX jobs_status ON jobs (status, time, id);
CREATE INDEX jobs_seq ON jobs (seq, id);

-- full_name is namespace.name (or name without a namespace), for taskNames.
CREATE TABLE tasks (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  name TEXT NOT NULL,
  namespace TEXT NOT NULL,
  full_name TEXT NOT NULL,
  source TEXT NOT NULL,
  version TEXT,
  seq INTEGER NOT NULL
);
CREATE INDEX tasks_time ON tasks (time, id);
CREATE INDEX tasks_name ON tasks (name);
CREATE INDEX tasks_full_name ON tasks (full_name);
CREATE INDEX tasks_seq ON tasks (seq, id);

-- "values" is an SQL keyword, hence value_records.
CREATE TABLE value_records (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  value_type TEXT NOT NULL,
  encoded TEXT NOT NULL,
  size INTEGER NOT NULL,
  preview INTEGER NOT NULL CHECK (preview IN (0, 1)),
  seq INTEGER NOT NULL
);
CREATE INDEX value_records_time ON value_records (time, id);
CREATE INDEX value_records_seq ON value_records (seq, id);

CREATE TABLE call_nodes (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  task_hash TEXT NOT NULL,
  args_hash TEXT NOT NULL,
  args TEXT NOT NULL CHECK (json_type(args) = 'array'),
  result_hash TEXT NOT NULL,
  children TEXT NOT NULL CHECK (json_type(children) = 'array'),
  seq INTEGER NOT NULL
);
CREATE INDEX call_nodes_time ON call_nodes (time, id);
CREATE INDEX call_nodes_task ON call_nodes (task_hash);
CREATE INDEX call_nodes_result ON call_nodes (result_hash);
CREATE INDEX call_nodes_seq ON call_nodes (seq, id);

-- Tags are immutable; `current` (1 when no tag names this one as a parent)
-- is derived and maintained on write from tag_parents, whichever of a tag
-- and its children arrives first. value_json is the canonical JSON of the
-- value, so equality is JSON equality. Delete records have entity_id NULL.
CREATE TABLE tags (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  entity_type TEXT CHECK (entity_type IN ('Execution', 'Job', 'CallNode', 'Task', 'Value')),
  entity_id TEXT,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL CHECK (json_valid(value_json)),
  parents TEXT NOT NULL CHECK (json_type(parents) = 'array'),
  current INTEGER NOT NULL CHECK (current IN (0, 1)),
  seq INTEGER NOT NULL
);
-- Partial indexes over current tags; a query uses them only when it states
-- `current = 1` literally.
CREATE INDEX tags_current_entity ON tags (entity_id, key, value_json) WHERE current = 1;
CREATE INDEX tags_current_key ON tags (key, value_json, entity_type, entity_id) WHERE current = 1;
CREATE INDEX tags_seq ON tags (seq, id);

-- Parent -> child edges of tags, recorded even before the parent arrives.
CREATE TABLE tag_parents (
  parent_id TEXT NOT NULL,
  child_id TEXT NOT NULL,
  PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;

-- Counts of current, non-delete tags by key and entity type and by key, value
-- and entity type, kept by triggers: countTags reads them instead of every
-- tag, and the query planner reads the size of a tag filter's candidate set
-- (see query-sql.ts). Rows may reach n = 0 and stay; readers skip them.
CREATE TABLE tag_key_counts (
  key TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (key, entity_type)
) WITHOUT ROWID;

CREATE TABLE tag_value_counts (
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (key, value_json, entity_type)
) WITHOUT ROWID;

CREATE TRIGGER tags_count_insert AFTER INSERT ON tags
WHEN NEW.current = 1 AND NEW.entity_id IS NOT NULL AND NEW.entity_type IS NOT NULL
BEGIN
  INSERT INTO tag_key_counts (key, entity_type, n) VALUES (NEW.key, NEW.entity_type, 1)
    ON CONFLICT (key, entity_type) DO UPDATE SET n = n + 1;
  INSERT INTO tag_value_counts (key, value_json, entity_type, n) VALUES (NEW.key, NEW.value_json, NEW.entity_type, 1)
    ON CONFLICT (key, value_json, entity_type) DO UPDATE SET n = n + 1;
END;

-- Currency only ever goes from 1 to 0 (a tag gains a child); tags are never deleted.
CREATE TRIGGER tags_count_replaced AFTER UPDATE OF current ON tags
WHEN OLD.current = 1 AND NEW.current = 0 AND OLD.entity_id IS NOT NULL AND OLD.entity_type IS NOT NULL
BEGIN
  UPDATE tag_key_counts SET n = n - 1 WHERE key = OLD.key AND entity_type = OLD.entity_type;
  UPDATE tag_value_counts SET n = n - 1 WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type;
END;

CREATE TABLE evaluations (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  task_hash TEXT NOT NULL,
  args_hash TEXT NOT NULL,
  value_hash TEXT NOT NULL,
  call_hash TEXT NOT NULL,
  job_tags TEXT NOT NULL CHECK (json_type(job_tags) = 'array'),
  seq INTEGER NOT NULL
);
CREATE INDEX evaluations_seq ON evaluations (seq, id);
