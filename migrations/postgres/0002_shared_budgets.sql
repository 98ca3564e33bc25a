-- Shared budgets (issue 11, docs/model.md "Shared budgets"), as SQLite's 0005_shared_budgets:
-- physical resources of a parent device that several devices of a host draw on, as the host
-- declared them in its last sync. Forward-only: a shipped migration is never edited.
--
-- budgets: JSON [[budget_id, parent, total, available, [[device_id, per_unit], ...]], ...] in
-- budget id order (server/store/history-encoding.ts `encodeBudgets`), the same text as SQLite
-- holds; NULL when the host declared none. The check casts it (PostgreSQL 15 has no IS JSON):
-- text that is not JSON is refused with an error, as SQLite's json_valid check refuses it.
ALTER TABLE hosts ADD COLUMN budgets TEXT CONSTRAINT hosts_budgets_json CHECK (budgets IS NULL OR budgets::json IS NOT NULL);
