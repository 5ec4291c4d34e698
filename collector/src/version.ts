/** The collector's version, as in package.json (test/cli.test.ts checks that they agree; the bundle has no package.json). */
export const VERSION = '0.1.0';
