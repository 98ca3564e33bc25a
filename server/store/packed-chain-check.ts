// The start-up chain check over SQLite's packed history rows, without building the entries
// (startup-check.ts runs it first; it is the largest part of the storage worker's start after
// the device read). The check is the walk's (history-encoding.ts walkChain): each entry's stored
// link to the entry before it must be that entry's hash, and its stored hash must be SHA-256
// over that hash and the entry's canonical encoding (history-chain.ts). Only where the canonical
// encoding comes from differs: the walk parses each row's JSON into columns and encodes them
// again; here it is cut from the row's text, as the store cut the row from it when it wrote it
// (sqlite-history.ts chainPacked), and the links are compared as bytes.
//
// Why that is the same check: an entry passes only if SHA-256 over (link, cut text) is its stored
// hash, which is SHA-256 over the canonical encoding the store hashed when it wrote the entry;
// so the cut text IS that encoding (SHA-256 is collision resistant), the row's text is
// byte for byte the one the store wrote (the cut is one-to-one: `[r,` + inner + `]` from
// `[` + inner + `,""]`), and the walk would parse it into the same columns and pass too. The
// one row that holds entries no hash covers (the oldest read, when the newest N start inside
// it) is also parsed the walk's way, so that it reads as the same entries to both. Any
// entry that does not pass here, or a row whose text is not in the form the store writes (a
// version 2 entry, history packed by migration 0007 from older rows, an edit), is checked the
// walk's way, by its parsed columns; and when that fails too, this check gives up and the walk
// runs (startup-check.ts), so a broken chain is reported with the walk's own words.

import { ChainLinks } from './history-chain.ts';

/** A history row as read (sqlite-history.ts): its revision, packed entries and links (64 bytes per entry). */
export interface PackedRow {
  readonly revision: number;
  readonly entries: string;
  readonly links: Buffer | null;
}

const LINK_BYTES = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The texts of the `count` top-level elements of a JSON array text (`[a,b,...]`, as JSON.stringify
 * writes it: no spaces), or undefined when the text does not split into exactly `count`. A text
 * that is not JSON may split wrongly: the hash decides (see the header), never this.
 */
export function splitArray(text: string, count: number): string[] | undefined {
  const end = text.length - 1;
  if (count < 1 || text.charCodeAt(0) !== OPEN_ARRAY || text.charCodeAt(end) !== CLOSE_ARRAY) return undefined;
  if (count === 1) return [text.slice(1, end)];
  const pieces: string[] = [];
  let depth = 0;
  let start = 1;
  for (let i = 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // To the closing quote: the next one not escaped (preceded by an even number of backslashes).
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0 || i >= end) return undefined;
        let b = i - 1;
        while (text.charCodeAt(b) === BACKSLASH) b--;
        if ((i - 1 - b) % 2 === 0) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    else if (c === COMMA && depth === 0) {
      if (pieces.length === count - 1) return undefined;
      pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start, end));
  return pieces.length === count ? pieces : undefined;
}

/** The suffix of a packed version 1 entry: its empty on_behalf_of. */
const V1_END = ',""]';

/**
 * The canonical encodings of a row's entries cut from its text, the inverse of chainPacked's cut
 * for version 1 entries (`[seq,...,after,""]` at revision r is `[r,seq,...,after]`); undefined
 * when the row is not `count` such entries. Revision 2 is left to the walk: there a version 1
 * encoding `[2,...]` also starts as a version 2 one does (`[2,r,...]`).
 */
function packedEncodings(row: PackedRow, count: number): string[] | undefined {
  if (row.revision === 2) return undefined;
  const pieces = splitArray(row.entries, count);
  if (!pieces) return undefined;
  const head = `[${row.revision},`;
  const encodings = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const piece = pieces[i];
    if (piece.length <= 1 + V1_END.length || piece.charCodeAt(0) !== OPEN_ARRAY || !piece.endsWith(V1_END)) return undefined;
    encodings[i] = `${head}${piece.slice(1, -V1_END.length)}]`;
  }
  return encodings;
}

/**
 * Checks the newest `limit` entries of rows read newest first, as checkRecentChain's walk does:
 * reads until it has `limit + 1` entries (the oldest only gives the link to start from) or the
 * rows end (then the walk starts from `startHash`, the checkpoint's). `walkEncodings` gives a
 * row's encodings the walk's way (its parsed columns, encoded), for the rows this cannot cut.
 * Returns how many entries were checked when every one passed; undefined when any did not (or a
 * row's links do not fit its entries), for the walk to find and name.
 */
export function checkNewestPacked(
  rowsNewestFirst: Iterable<PackedRow>,
  limit: number,
  startHash: string,
  walkEncodings: (row: PackedRow) => string[],
): number | undefined {
  if (limit <= 0) return 0;
  const rows: { row: PackedRow; count: number }[] = [];
  let total = 0;
  for (const row of rowsNewestFirst) {
    const { links } = row;
    if (!links || links.length === 0 || links.length % LINK_BYTES !== 0) return undefined;
    const count = links.length / LINK_BYTES;
    rows.push({ row, count });
    total += count;
    if (total > limit) break;
  }
  if (rows.length === 0) return 0;
  rows.reverse();
  // With more than `limit` entries, skip the oldest read but one; that one gives the start link.
  const whole = total <= limit;
  let skip = whole ? 0 : total - limit - 1;
  let chain: ChainLinks | undefined;
  if (whole) {
    if (!/^[0-9a-f]{64}$/.test(startHash)) return undefined;
    chain = new ChainLinks(Buffer.from(startHash, 'hex'));
  }
  let checked = 0;
  for (const [index, { row, count }] of rows.entries()) {
    const links = row.links!;
    // Skipped entries need no encoding, but the row's text must still read as `count` entries,
    // as the walk's parse reads it: its count decides which entries the walk takes and which
    // link it starts from. Where every entry of a row is hashed, a text that hashes is the
    // store's and parses so; the oldest row read, when the newest `limit` start inside it, has
    // entries no hash covers (the skipped ones, the one giving the start link), so there the
    // walk's own parse must read it as `count` entries, and its encodings serve (one parse of
    // one row per start).
    const fast = !whole && index === 0 ? undefined : packedEncodings(row, count);
    let encodings = fast ?? walkEncodings(row);
    if (encodings.length !== count) return undefined;
    for (let i = 0; i < count; i++) {
      if (skip > 0) {
        skip--;
        continue;
      }
      if (!chain) {
        chain = new ChainLinks(links.subarray(i * LINK_BYTES + 32, (i + 1) * LINK_BYTES));
        continue;
      }
      if (chain.follows(encodings[i], links, i * LINK_BYTES)) {
        checked++;
        continue;
      }
      // Not the store's cut (or an entry that fails): the walk's encoding of this row decides.
      if (encodings !== fast) return undefined;
      encodings = walkEncodings(row);
      if (encodings.length !== count || !chain.follows(encodings[i], links, i * LINK_BYTES)) return undefined;
      checked++;
    }
  }
  return checked;
}
