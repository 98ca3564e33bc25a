// A live stream that starts with an initial set (WatchTargets' current targets), then goes on
// with changes. The initial set may be megabytes (tens of thousands of targets), more than the
// stream's buffer may hold: it goes out message by message as the client takes it, each made
// only as it is sent. Changes that come meanwhile wait behind it, in order, and are bounded
// too: past `limitBytes` of them the stream ends as too slow (WATCH_TOO_SLOW), as a live stream
// whose client falls behind does. A failure to make a message ends the stream with that error.
// A client that takes nothing of its initial set for `stallTimeoutMs` (--send-timeout, as for a
// search's answer) while nothing changes is cut off with OVERLOADED, and the set's list of
// targets and what HTTP/2 buffered for it are released, instead of being held until it goes away.

import { overloaded } from '../core/errors.ts';
import type { LiveStream } from './streams.ts';

export class InitialThenLive {
  /** Changes that came while the initial set was going out; undefined once it is out. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;

  constructor(
    private readonly stream: LiveStream,
    private readonly limitBytes: number,
    /** How long the client may take none of the initial set (0: for ever). */
    private readonly stallTimeoutMs: number,
  ) {}

  /** Sends the initial set, made lazily by `messages`, then the changes held meanwhile. */
  start(messages: Iterable<Buffer>): void {
    this.held = [];
    this.sendInitial(messages).catch((error: unknown) => this.stream.fail(error));
  }

  /** A change: sent now, or held behind the initial set. */
  change(bytes: Buffer): void {
    if (this.stream.closed) return;
    if (!this.held) {
      this.stream.write(bytes);
      return;
    }
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes > this.limitBytes) this.stream.tooSlow();
  }

  private async sendInitial(messages: Iterable<Buffer>): Promise<void> {
    for (const bytes of messages) {
      if (this.stream.closed) return;
      if (!this.stream.write(bytes) && !(await this.stream.drainedWithin(this.stallTimeoutMs))) {
        this.stream.cutOff(
          overloaded(`the client read nothing of the initial set for ${this.stallTimeoutMs} ms (--send-timeout): read the stream as it comes, then open it again`),
        );
        return;
      }
    }
    if (this.stream.closed) return;
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    for (const bytes of held) this.stream.write(bytes);
  }
}
