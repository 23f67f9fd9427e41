/**
 * Where a worker thread's code is: the compiled entry file beside the module that starts it (in
 * dist/<area>/, or in dist/bin/ where the command is bundled: scripts/bundle.mjs names entries
 * alike). A thread runs JavaScript only, so under the test runner, where that module is TypeScript
 * in src/, the thread runs the build in dist/: the tests rebuild it first whenever a source is newer
 * (test/helpers/fresh-build.ts), so a test runs the source as it is.
 */
export function threadEntryUrl(moduleUrl: string, name: string): URL {
  const compiled = moduleUrl.endsWith(".ts") ? moduleUrl.replace(/\/src\/(?!.*\/src\/)/, "/dist/") : moduleUrl;
  return new URL(`./${name}.js`, compiled);
}
