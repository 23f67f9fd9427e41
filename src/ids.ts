import { randomBytes } from "node:crypto";

/**
 * Time-ordered, URL-safe ids with a type prefix (`ins_01J…`). Time ordering keeps new rows at the
 * end of the primary-key index (cheap inserts) and makes "reverse chronological" a key order.
 * Layout: 10 chars of Crockford base32 milliseconds + 16 chars of randomness.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * Randomness is drawn in blocks: a `randomBytes` call per id would be a native call for each of the
 * two or three ids per event (docs/PERFORMANCE.md, item 22). A new block is allocated, not refilled, so an
 * id's bytes are never overwritten while the generator still holds them.
 */
const BLOCK = 4_096;
let block = randomBytes(BLOCK);
let offset = 0;
function randomTen(): Uint8Array {
  if (offset + 10 > BLOCK) {
    block = randomBytes(BLOCK);
    offset = 0;
  }
  offset += 10;
  return block.subarray(offset - 10, offset);
}

export type IdPrefix = "acc" | "key" | "trg" | "act" | "evt" | "ins" | "att";
export type IdGenerator = (prefix: IdPrefix) => string;

/** The alphabet as ASCII codes, for writing ids into a byte buffer. */
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

export function createIdGenerator(now: () => number = Date.now): IdGenerator {
  let lastTime = -1;
  let lastRandom: Uint8Array = new Uint8Array(10);
  /** The randomness of ids after the first in a millisecond, incremented in place (no array per id). */
  const counter = new Uint8Array(10);
  // An id's 26 characters are written as bytes and read out as one string: built a character at a
  // time, each id would leave dozens of intermediate strings as garbage. The
  // time part is rewritten only when the millisecond changes.
  const text = Buffer.alloc(26);
  return (prefix) => {
    const time = now();
    let random: Uint8Array;
    if (time === lastTime) {
      // Same millisecond: increment the previous randomness so ids stay strictly increasing.
      if (lastRandom !== counter) counter.set(lastRandom);
      random = counter;
      for (let i = random.length - 1; i >= 0; i--) {
        random[i] = ((random[i] ?? 0) + 1) & 0xff;
        if (random[i] !== 0) break;
      }
    } else {
      random = randomTen();
      let t = time;
      for (let i = 9; i >= 0; i--) {
        text[i] = CODES[t % 32] as number;
        t = Math.floor(t / 32);
      }
      lastTime = time;
    }
    lastRandom = random;
    // 10 bytes = 80 bits = 16 base32 characters, most significant first.
    let at = 10;
    let bits = 0;
    let value = 0;
    for (const byte of random) {
      value = ((value << 8) | byte) & 0xffff;
      bits += 8;
      while (bits >= 5) {
        text[at++] = CODES[(value >>> (bits - 5)) & 31] as number;
        bits -= 5;
      }
    }
    return `${prefix}_${text.toString("latin1")}`;
  };
}

export const newId: IdGenerator = createIdGenerator();
