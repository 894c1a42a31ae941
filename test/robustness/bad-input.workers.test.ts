/** The bad-input table (bad-input.ts) sent to the app over a real D1 in workerd, rows counted with SQL. */
import { createD1Repository } from "redun-edge/d1";
import { createApp } from "redun-edge/worker";
import { db, emptyDatabase, rowCounts } from "../d1/harness.ts";
import { runBadInputSuite } from "./bad-input.ts";

runBadInputSuite("d1 (workerd)", async () => {
  await emptyDatabase(db);
  const repository = createD1Repository(db);
  return {
    repository,
    serve: (options = {}) => {
      const app = createApp({ repository, ...options });
      return async (path, init) => app.request(path, init);
    },
    counts: () => rowCounts(db),
  };
});
