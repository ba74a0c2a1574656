import type { Db } from "../db/db.js";
import { migrate } from "../db/migrate.js";
import { checkSchema } from "../db/schema-check.js";
import type { CommandIo } from "./io.js";
import { writeJsonLine } from "./io.js";

export async function dbMigrate(
  db: Db,
  io: CommandIo,
  options: { withCore: boolean; json: boolean },
): Promise<number> {
  const result = await migrate(db, { withCore: options.withCore });
  if (options.json) {
    writeJsonLine(io, { database: db.description, ...result });
  } else {
    for (const name of result.applied) io.stdout.write(`applied ${name}\n`);
    io.stdout.write(
      result.applied.length === 0
        ? `schema up to date (${result.alreadyApplied.length} migrations already applied)\n`
        : `${result.applied.length} migration(s) applied to ${db.description}\n`,
    );
  }
  return 0;
}

export async function dbCheck(db: Db, io: CommandIo, options: { json: boolean }): Promise<number> {
  const problems = await checkSchema(db);
  if (options.json) {
    writeJsonLine(io, { ok: problems.length === 0, problems });
  } else if (problems.length === 0) {
    io.stdout.write("ok: the database has every table, column and index the code uses\n");
  } else {
    for (const p of problems) io.stdout.write(`missing: ${p.object}: ${p.problem}\n`);
    io.stdout.write(
      `${problems.length} problem(s); run \`observability db migrate\` (and apply the shared schema)\n`,
    );
  }
  return problems.length === 0 ? 0 : 1;
}
