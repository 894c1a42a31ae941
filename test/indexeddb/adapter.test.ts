import "fake-indexeddb/auto";
import { runAdapterCases } from "./adapter-cases.ts";

runAdapterCases("indexeddb (fake-indexeddb)");
