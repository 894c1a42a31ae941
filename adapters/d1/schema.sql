-- The D1 schema after every migration (adapters/d1/migrations), as SQLite holds it, normalized.
-- Generated: do not edit. Checked by test/d1/schema.workers.test.ts, which says how to refresh it.
-- What each tag table and trigger keeps: adapters/d1/INVARIANTS.md.

CREATE TABLE call_nodes (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  task_hash TEXT NOT NULL,
  args_hash TEXT NOT NULL,
  args TEXT NOT NULL CHECK (json_type(args) = 'array'),
  result_hash TEXT NOT NULL,
  children TEXT NOT NULL CHECK (json_type(children) = 'array'),
  seq INTEGER NOT NULL,
  redun TEXT
);

CREATE TABLE counters (
  name TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE evaluations (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  task_hash TEXT NOT NULL,
  args_hash TEXT NOT NULL,
  value_hash TEXT NOT NULL,
  call_hash TEXT NOT NULL,
  job_tags TEXT NOT NULL CHECK (json_type(job_tags) = 'array'),
  seq INTEGER NOT NULL,
  execution_tags TEXT NOT NULL DEFAULT '[]' CHECK (json_type(execution_tags) = 'array'),
  redun TEXT
);

CREATE TABLE executions (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  root_job_id TEXT NOT NULL,
  argv TEXT NOT NULL CHECK (json_type(argv) = 'array'),
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'DONE', 'FAILED')),
  seq INTEGER NOT NULL,
  lease_until INTEGER
);

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

CREATE TABLE tag_ids (
  prefix TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (prefix, seq)
) WITHOUT ROWID;

CREATE TABLE tag_key_counts (
  key TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (key, entity_type)
) WITHOUT ROWID;

CREATE TABLE tag_kv (
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_time INTEGER NOT NULL,
  entity_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (key, value_json, entity_type, entity_time, entity_id, seq)
) WITHOUT ROWID;

CREATE TABLE tag_parents (
  parent_id TEXT NOT NULL,
  child_id TEXT NOT NULL,
  PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;

CREATE TABLE tag_value_counts (
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (key, value_json, entity_type)
) WITHOUT ROWID;

CREATE TABLE "tags" (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  time INTEGER NOT NULL,
  entity_type TEXT,
  entity_id TEXT,
  entity_time INTEGER,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  parents TEXT NOT NULL,
  current INTEGER NOT NULL,
  value_text TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  name TEXT NOT NULL,
  namespace TEXT NOT NULL,
  full_name TEXT NOT NULL,
  source TEXT NOT NULL,
  version TEXT,
  seq INTEGER NOT NULL,
  redun TEXT
);

CREATE TABLE value_records (
  id TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  value_type TEXT NOT NULL,
  encoded TEXT NOT NULL,
  size INTEGER NOT NULL,
  preview INTEGER NOT NULL CHECK (preview IN (0, 1)),
  seq INTEGER NOT NULL,
  redun TEXT
);

CREATE INDEX call_nodes_result ON call_nodes (result_hash);

CREATE INDEX call_nodes_seq ON call_nodes (seq, id);

CREATE INDEX call_nodes_task ON call_nodes (task_hash);

CREATE INDEX call_nodes_time ON call_nodes (time, id);

CREATE INDEX evaluations_seq ON evaluations (seq, id);

CREATE INDEX executions_seq ON executions (seq, id);

CREATE INDEX executions_status ON executions (status, time, id);

CREATE INDEX executions_time ON executions (time, id);

CREATE INDEX jobs_call ON jobs (call_hash);

CREATE INDEX jobs_execution ON jobs (execution_id, start_time, id);

CREATE INDEX jobs_seq ON jobs (seq, id);

CREATE INDEX jobs_status ON jobs (status, time, id);

CREATE INDEX jobs_task ON jobs (task_hash);

CREATE INDEX jobs_time ON jobs (time, id, execution_id);

CREATE UNIQUE INDEX tags_entity ON tags (entity_time, entity_id, key, value_json, current, id, value_text);

CREATE UNIQUE INDEX tags_pending ON tags (id) WHERE entity_time IS NULL;

CREATE INDEX tasks_full_name ON tasks (full_name);

CREATE INDEX tasks_name ON tasks (name);

CREATE INDEX tasks_seq ON tasks (seq, id);

CREATE INDEX tasks_time ON tasks (time, id);

CREATE INDEX value_records_seq ON value_records (seq, id);

CREATE INDEX value_records_time ON value_records (time, id);

CREATE TRIGGER call_nodes_tag_time AFTER INSERT ON call_nodes
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'CallNode';
END;

CREATE TRIGGER executions_tag_retime AFTER UPDATE OF time ON executions WHEN OLD.time IS NOT NEW.time
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time = OLD.time AND entity_id = NEW.id AND entity_type = 'Execution';
END;

CREATE TRIGGER executions_tag_time AFTER INSERT ON executions
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Execution';
END;

CREATE TRIGGER jobs_tag_retime AFTER UPDATE OF time ON jobs WHEN OLD.time IS NOT NEW.time
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time = OLD.time AND entity_id = NEW.id AND entity_type = 'Job';
END;

CREATE TRIGGER jobs_tag_time AFTER INSERT ON jobs
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Job';
END;

CREATE TRIGGER tags_count_replaced AFTER UPDATE OF current ON tags WHEN OLD.current = 1 AND NEW.current = 0 AND OLD.entity_id IS NOT NULL AND OLD.entity_type IS NOT NULL AND OLD.seq <= (SELECT value FROM counters WHERE name = 'seq')
BEGIN
  UPDATE tag_key_counts SET n = n - 1 WHERE key = OLD.key AND entity_type = OLD.entity_type;
  UPDATE tag_value_counts SET n = n - 1 WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type;
END;

CREATE TRIGGER tags_kv_replaced AFTER UPDATE OF current ON tags WHEN OLD.current = 1 AND NEW.current = 0 AND OLD.seq <= (SELECT value FROM counters WHERE name = 'seq')
BEGIN
  DELETE FROM tag_kv WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type AND entity_time = OLD.entity_time AND entity_id = OLD.entity_id AND seq = OLD.seq;
END;

CREATE TRIGGER tags_kv_time AFTER UPDATE OF entity_time ON tags WHEN NEW.current = 1 AND NEW.entity_time IS NOT NULL AND NEW.entity_id IS NOT NULL AND NEW.entity_type IS NOT NULL AND NEW.seq <= (SELECT value FROM counters WHERE name = 'seq')
BEGIN
  DELETE FROM tag_kv WHERE key = OLD.key AND value_json = OLD.value_json AND entity_type = OLD.entity_type AND entity_time = OLD.entity_time AND entity_id = OLD.entity_id AND seq = OLD.seq;
  INSERT INTO tag_kv (key, value_json, entity_type, entity_time, entity_id, seq) VALUES (NEW.key, NEW.value_json, NEW.entity_type, NEW.entity_time, NEW.entity_id, NEW.seq) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER tasks_tag_time AFTER INSERT ON tasks
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Task';
END;

CREATE TRIGGER value_records_tag_time AFTER INSERT ON value_records
BEGIN
  UPDATE tags SET entity_time = NEW.time WHERE entity_time IS NULL AND entity_id = NEW.id AND entity_type = 'Value';
END;
