import { runConformanceSuite } from "../conformance/suite.ts";
import { createD1Harness } from "./harness.ts";

runConformanceSuite("d1", createD1Harness);
