/**
 * The server modules the UI runs too, loaded from dist/ui/shared (scripts/build-ui.mjs bundles them):
 * the trigger form tells whether the example payload matches with the server's own evaluator.
 * Loaded lazily, and optional: before the module exists the form says the check is unavailable.
 */
import type { ConditionGroup } from "./types.js";

export type Matcher = (data: unknown) => boolean;
/** src/match/conditions.ts's `compileConditions`, as the contract of issue 37 declares it. */
type Compile = (conditions: ConditionGroup) => Matcher;

// A variable, not a literal: the module is built, not type-checked from here (it is the server's).
const CONDITIONS = "./shared/conditions.js";
let compile: Promise<Compile | undefined> | undefined;

export function conditionsCompiler(): Promise<Compile | undefined> {
  compile ??= import(CONDITIONS).then(
    (m: { compileConditions?: Compile }) => m.compileConditions,
    () => undefined,
  );
  return compile;
}
