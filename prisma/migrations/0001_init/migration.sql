-- Schema of prisma/schema.prisma. Written by hand: `prisma migrate` needs Prisma's native schema
-- engine, which cannot be downloaded on offline machines. src/testing/migrate.ts applies these files.

CREATE TYPE "issue_status" AS ENUM ('open', 'in progress', 'done');

CREATE TABLE "todos" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "is_completed" BOOLEAN NOT NULL DEFAULT false,
    "owner_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "todos_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "todos_owner_id_idx" ON "todos"("owner_id");

CREATE TABLE "projects" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "issues" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "status" "issue_status" NOT NULL DEFAULT 'open',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "project_id" UUID NOT NULL,
    CONSTRAINT "issues_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "issues_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "issues_project_id_idx" ON "issues"("project_id");

CREATE TABLE "memberships" (
    "user_id" TEXT NOT NULL,
    "project_id" UUID NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'member',
    CONSTRAINT "memberships_pkey" PRIMARY KEY ("user_id", "project_id"),
    CONSTRAINT "memberships_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "all_types" (
    "id" UUID NOT NULL,
    "str" TEXT,
    "bool" BOOLEAN,
    "int_value" INTEGER,
    "big" BIGINT,
    "float" DOUBLE PRECISION,
    "dec" DECIMAL(20,6),
    "date" TIMESTAMPTZ(3),
    "json" JSONB,
    "bytes" BYTEA,
    "status" "issue_status",
    "strs" TEXT[],
    "ints" INTEGER[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "all_types_pkey" PRIMARY KEY ("id")
);
