/**
 * What one worker holds: instances leased to it (reserved for a hand-off, queued at the gate, in
 * flight, or waiting for their record), counted per action, per account and in all, and the claims
 * they came from (their leases are renewed). The worker asks it for room; nothing else counts.
 */
import { tally } from "./endpoint-gate.js";

/** How many instances one worker may hold: per action endpoint, per account, in all. */
export interface HoldLimits {
  perAction: number;
  perAccount: number;
  all: number;
}

/** One held instance. */
export interface Slot {
  /** Gives back the action's and the account's room: the receiver has answered. */
  freeSlot(): void;
  /** Ends the hold (its record is in, or it was given back); frees the slot too if not yet. */
  release(): void;
}

export interface Holds {
  /**
   * An action's room, within its account's as far as known: the account of an action with nothing
   * held is not known here (the claim checks the account's room row by row).
   */
  room(actionId: string, accountId?: string): number;
  accountRoom(accountId: string): number;
  /** Instances this worker may still take in all. */
  free(): number;
  /** Actions, then accounts, with no room left. */
  saturated(): string[];
  saturatedAccounts(): string[];
  /** Holds one instance of `actionId` (of `accountId`) under the claim `leaseToken`. */
  take(actionId: string, accountId: string, leaseToken: string): Slot;
  /** Claims with an instance still held: their leases must be kept alive. */
  claimTokens(): string[];
}

/** `onFreed` runs whenever room frees (a slot, or a hold). */
export function createHolds(limits: HoldLimits, onFreed: () => void): Holds {
  const perAction = new Map<string, number>();
  const perAccount = new Map<string, number>();
  /** The account of each action held: an action's room is its account's too. */
  const accountOf = new Map<string, string>();
  /** Claims with instances held → how many. */
  const heldClaims = new Map<string, number>();
  let holding = 0;

  const accountRoom = (accountId: string) => limits.perAccount - (perAccount.get(accountId) ?? 0);
  const actionRoom = (actionId: string) => limits.perAction - (perAction.get(actionId) ?? 0);

  function take(actionId: string, accountId: string, leaseToken: string): Slot {
    holding++;
    tally(heldClaims, leaseToken, 1);
    tally(perAction, actionId, 1);
    tally(perAccount, accountId, 1);
    accountOf.set(actionId, accountId);
    let slotHeld = true;
    const freeSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      tally(perAction, actionId, -1);
      tally(perAccount, accountId, -1);
      if (!perAction.has(actionId)) accountOf.delete(actionId);
      onFreed();
    };
    let leased = true;
    const release = () => {
      freeSlot();
      // Counted as held until its record commits (or it is given back): the instances leased to
      // this worker — all that a kill -9 can make attempted twice — never exceed what it may hold.
      if (!leased) return;
      leased = false;
      holding--;
      onFreed();
      tally(heldClaims, leaseToken, -1);
    };
    return { freeSlot, release };
  }

  return {
    room: (actionId, accountId = accountOf.get(actionId)) =>
      Math.min(actionRoom(actionId), accountId === undefined ? Number.POSITIVE_INFINITY : accountRoom(accountId)),
    accountRoom,
    free: () => limits.all - holding,
    saturated: () => [...perAction.keys()].filter((actionId) => actionRoom(actionId) <= 0),
    saturatedAccounts: () => [...perAccount.keys()].filter((accountId) => accountRoom(accountId) <= 0),
    take,
    claimTokens: () => [...heldClaims.keys()],
  };
}
