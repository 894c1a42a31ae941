import "fake-indexeddb/auto";
import { runDifferential } from "./differential.ts";

runDifferential("indexeddb (fake-indexeddb)");
