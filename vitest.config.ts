import { defineConfig } from "vitest/config";

// Three projects: pure unit tests next to their modules, and every database-backed test twice,
// once on the embedded PGlite default and once on the real PostgreSQL server (TEST_DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/postgres).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "pglite",
          include: ["test/**/*.test.ts"],
          env: { OBSERVABILITY_TEST_DB: "pglite" },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "postgres",
          include: ["test/**/*.test.ts"],
          env: { OBSERVABILITY_TEST_DB: "postgres" },
          globalSetup: ["test/support/postgres-global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
