// Where a request stream stands in gRPC's length-prefixed framing (a flag byte, a 4-byte
// big-endian length, then the message): between messages, or part-way through one. grpc-js
// tells a handler when a message has arrived whole, never when one has begun; the receive
// timeout of request streams (limits.ts) needs the second, to cut off a client that stops
// mid-message while leaving alone one that is merely idle between messages. Counts bytes only:
// nothing is buffered, the message bytes are grpc-js's to decode.

const PREFIX_BYTES = 5;

export class MessageFraming {
  /** Prefix bytes still to read of the current message (0 once its length is known). */
  private prefixLeft = PREFIX_BYTES;
  /** The length being read from the prefix. */
  private length = 0;
  /** Message bytes still to come once the prefix is read. */
  private bodyLeft = 0;

  /** True when some of a message has arrived but not all of it. */
  get midMessage(): boolean {
    return this.prefixLeft < PREFIX_BYTES || this.bodyLeft > 0;
  }

  /** Reads one chunk of the stream; returns how many messages it completed. */
  feed(chunk: Uint8Array): number {
    let completed = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.prefixLeft > 0) {
        const index = PREFIX_BYTES - this.prefixLeft;
        // Bytes 1..4 of the prefix are the length; byte 0 is the compression flag.
        if (index >= 1) this.length = this.length * 256 + chunk[at];
        at++;
        this.prefixLeft--;
        if (this.prefixLeft === 0) {
          this.bodyLeft = this.length;
          this.length = 0;
          if (this.bodyLeft === 0) {
            completed++;
            this.prefixLeft = PREFIX_BYTES;
          }
        }
        continue;
      }
      const take = Math.min(this.bodyLeft, chunk.length - at);
      at += take;
      this.bodyLeft -= take;
      if (this.bodyLeft === 0) {
        completed++;
        this.prefixLeft = PREFIX_BYTES;
      }
    }
    return completed;
  }
}
