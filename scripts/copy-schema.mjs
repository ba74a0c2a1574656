// Copies the SQL migrations next to the compiled code, so dist/ finds them the way src/ does.
import { cpSync } from "node:fs";

cpSync(new URL("../src/db/schema", import.meta.url), new URL("../dist/db/schema", import.meta.url), {
  recursive: true,
});
