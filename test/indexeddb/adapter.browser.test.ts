import { runAdapterCases } from "./adapter-cases.ts";

runAdapterCases("indexeddb (Chromium)");
