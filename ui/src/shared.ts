/**
 * The server modules the UI runs too, loaded from dist/ui/shared (scripts/build-ui.mjs bundles them):
 * the trigger form tells whether the example payload matches with the server's own evaluator, and
 * the template editor counts an SMS as the server does. Loaded lazily, and optional: where a
 * bundle is missing (a build without rolldown) the UI says its check is unavailable, or leaves the count out.
 */
import type { countSms, SmsCount } from "../../src/templates/sms-segments.js";
import type { ConditionGroup } from "./types.js";

export type { SmsCount };

export type Matcher = (data: unknown) => boolean;
/** src/match/conditions.ts's `compileConditions`, taking the builder's looser shape (types.ts), which is the same JSON. */
type Compile = (conditions: ConditionGroup) => Matcher;
type CountSms = typeof countSms;

/** A module of dist/ui/shared by name; variables, not literals: these are built, not type-checked from here (they are the server's). */
function load<T>(path: string, name: string): () => Promise<T | undefined> {
  let loaded: Promise<T | undefined> | undefined;
  return () => {
    loaded ??= import(path).then(
      (m: Record<string, T | undefined>) => m[name],
      () => undefined,
    );
    return loaded;
  };
}

export const conditionsCompiler = load<Compile>("./shared/conditions.js", "compileConditions");
export const smsCounter = load<CountSms>("./shared/sms-segments.js", "countSms");
