/**
 * The shared conformance suite on fake-indexeddb (Node). Each harness gets a
 * database of its own; the raw reader reads the object stores with idb.
 */
import { IDBFactory } from "fake-indexeddb";
import "fake-indexeddb/auto";
import { runConformanceSuite } from "../conformance/suite.ts";
import { indexedDbHarness } from "./harness.ts";

const factory = new IDBFactory();
runConformanceSuite("indexeddb (fake-indexeddb)", () => indexedDbHarness(factory));
