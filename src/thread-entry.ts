/**
 * Where a worker thread's code is: the compiled entry file beside the module that starts it (in
 * dist/<area>/, or in dist/bin/ where the command is bundled: scripts/bundle.mjs names entries
 * alike). Under the test runner that module is TypeScript source, which a worker thread cannot
 * load: the thread then runs the build in dist/ (`npm test` builds first).
 */
export function threadEntryUrl(moduleUrl: string, name: string): URL {
  const compiled = moduleUrl.endsWith(".ts") ? moduleUrl.replace(/\/src\/(?!.*\/src\/)/, "/dist/") : moduleUrl;
  return new URL(`./${name}.js`, compiled);
}
