/** The bad-input table (bad-input.ts) sent to the app over a real D1 in workerd, rows counted with SQL. */
import { createD1Repository } from "redun-edge/d1";
import { db, emptyDatabase, rowCounts } from "../d1/harness.ts";
import { appHarness } from "../worker/api-suite.ts";
import { runBadInputSuite } from "./bad-input.ts";

runBadInputSuite("d1 (workerd)", async () => {
  await emptyDatabase(db);
  return appHarness(createD1Repository(db), () => rowCounts(db));
});
