import { OutcomeUnknown, StoreUnreachable } from '../domain/errors';
import { isReplyError } from './errors';

/**
 * Sends one command whose effect must not be guessed at (a purchase), and says which way it failed:
 * - Redis answered with an error: as thrown (an outage reply, OOM, or a bug: the caller maps it);
 * - the client refused before anything reached the socket (no connection, not writable): StoreUnreachable,
 *   and the purchase certainly was not made;
 * - anything else (a timeout, a connection closed with the command on it): OutcomeUnknown, since Redis may
 *   have run it and its answer was lost.
 *
 * Telling the second case from the third: ioredis refuses an unsendable command synchronously, in the
 * same turn of the event loop as its send (with auto-pipelining, the turn's setImmediate that flushes the
 * pipeline); a command that was written can only fail later, on a socket event or a timer. So a failure
 * that settles before the turn ends (a setImmediate queued after the send) was never sent. A command queued behind
 * another pipeline still in flight fails later even unsent: it is called unknown, the safe side.
 */
export async function sendOnce<T>(send: () => Promise<T>): Promise<T> {
  const pending = send();
  // read after the send, so that the turn's marker is queued after the pipeline's flush
  const sentInTurn = currentTurn();
  try {
    return await pending;
  } catch (error) {
    if (isReplyError(error)) throw error;
    if (turn === sentInTurn) throw new StoreUnreachable(error);
    throw new OutcomeUnknown(error);
  }
}

/**
 * Turns of the event loop, counted by one setImmediate per turn in which a command is sent, shared by
 * every purchase of that turn: a purchase costs no timer of its own.
 */
let turn = 0;
let counting = false;

function currentTurn(): number {
  if (!counting) {
    counting = true;
    setImmediate(() => {
      turn += 1;
      counting = false;
    });
  }
  return turn;
}
