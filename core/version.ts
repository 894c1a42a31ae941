/** The package version, recorded as a default execution tag by hosts. Keep in step with package.json. */
export const VERSION = "0.1.0";
