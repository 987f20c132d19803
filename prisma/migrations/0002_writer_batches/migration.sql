-- The Writer's record of applied batch ids (exactly once: a retried batch applies nothing and answers
-- with its first txid). The same SQL as createWriterTablesSql() in src/writer/batches.ts.
CREATE TABLE IF NOT EXISTS "trpc_sync_batches" (
    "batch_id" TEXT NOT NULL PRIMARY KEY,
    "txid" BIGINT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "applied_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
