// A certificate's subject alternative names, read from the text node gives for them
// (`subjectaltname` of a peer certificate, `X509Certificate.subjectAltName`): entries
// `<type>:<value>` separated by `, `. Since CVE-2021-44532, node writes a value holding a comma,
// a quote, a backslash, or a character outside printable ASCII as a JSON string literal
// (`DNS:"a, URI:spiffe://x/admin/y"`), so the text cannot be split at every comma: a value a
// certificate's requester chose could otherwise pose as further entries. Pure.

/** One subject alternative name: `type` as node names it (`DNS`, `URI`, `IP Address`, `email`). */
export interface AltName {
  readonly type: string;
  readonly value: string;
  /** Node wrote the value as a JSON string: it holds a character no identity may hold. */
  readonly quoted: boolean;
}

/** Why the text is not in node's form (a certificate read elsewhere, or a node that escapes otherwise). */
export class AltNamesFormatError extends Error {}

// A JSON string literal as node writes one, anchored where the value starts.
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** The entries in order; an empty text has none. Throws AltNamesFormatError. */
export function parseAltNames(text: string): AltName[] {
  const names: AltName[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    const comma = text.indexOf(',', at);
    if (colon === -1 || (comma !== -1 && comma < colon)) throw new AltNamesFormatError(`an entry without a type at offset ${at}`);
    const type = text.slice(at, colon);
    let value: string;
    let quoted = false;
    let end: number;
    if (text[colon + 1] === '"') {
      JSON_STRING.lastIndex = colon + 1;
      const match = JSON_STRING.exec(text);
      if (!match) throw new AltNamesFormatError(`an unterminated quoted value at offset ${colon + 1}`);
      value = JSON.parse(match[0]) as string;
      quoted = true;
      end = colon + 1 + match[0].length;
      if (end < text.length && text[end] !== ',') throw new AltNamesFormatError(`text after a quoted value at offset ${end}`);
    } else {
      end = comma === -1 ? text.length : comma;
      value = text.slice(colon + 1, end);
      if (value.includes('"')) throw new AltNamesFormatError(`a quote inside an unquoted value at offset ${colon + 1}`);
    }
    names.push({ type, value, quoted });
    if (end === text.length) break;
    // Node separates entries with ", "; a bare comma or more spaces are read the same way.
    at = end + 1;
    while (text[at] === ' ') at++;
    if (at === text.length) throw new AltNamesFormatError('a separator with no entry after it');
  }
  return names;
}
