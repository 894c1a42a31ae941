-- redun-edge D1 schema, version 6: what trustworthy runs record.
--
-- - executions.lease_until: the lease of a RUNNING execution, renewed by the
--   scheduler while its run lives (ExecutionRecord.leaseUntil); a RUNNING
--   execution past its lease was abandoned. NULL: no lease (rows before
--   version 6, and stores that do not keep one), never abandoned.
-- - evaluations.execution_tags: the execution tags `applyTags` gave when the
--   evaluation ran (EvaluationRecord.executionTags), given again to an
--   execution that reuses it. '[]' for rows before version 6.
ALTER TABLE executions ADD COLUMN lease_until INTEGER;
ALTER TABLE evaluations ADD COLUMN execution_tags TEXT NOT NULL DEFAULT '[]' CHECK (json_type(execution_tags) = 'array');
