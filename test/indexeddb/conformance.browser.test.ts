/** The shared conformance suite on Chromium's real IndexedDB. */
import { runConformanceSuite } from "../conformance/suite.ts";
import { indexedDbHarness } from "./harness.ts";

runConformanceSuite("indexeddb (Chromium)", () => indexedDbHarness());
