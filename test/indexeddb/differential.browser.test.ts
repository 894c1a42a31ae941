import { runDifferential } from "./differential.ts";

runDifferential("indexeddb (Chromium)", undefined, [1, 2, 3]);
