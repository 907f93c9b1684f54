/**
 * The last messages of each room, in memory. Bounded twice — messages per room and number of rooms —
 * so that a client creating rooms in a loop cannot grow the server without limit.
 */

/** A chat message as the server stamps it and every client receives it. */
export interface ChatMessage {
  /** Unique id, so a client can merge history with live messages without duplicates. */
  id: string;
  /** Nickname of the sender, as authenticated (never taken from the payload). */
  from: string;
  text: string;
  /** Server time, ms since the epoch. */
  at: number;
}

export interface RoomHistoryOptions {
  /** Messages kept per room; older ones are dropped. Default 50. */
  perRoom?: number;
  /** Rooms kept; the room written to least recently is forgotten first. Default 1,000. */
  maxRooms?: number;
}

/** Per-room ring of recent messages with least-recently-written eviction of whole rooms. */
export class RoomHistory {
  readonly perRoom: number;
  readonly maxRooms: number;
  // A Map iterates in insertion order; re-inserting a room on every write keeps the least recently
  // written room first, which makes eviction O(1).
  readonly #rooms = new Map<string, ChatMessage[]>();

  constructor({ perRoom = 50, maxRooms = 1_000 }: RoomHistoryOptions = {}) {
    this.perRoom = perRoom;
    this.maxRooms = maxRooms;
  }

  /** Appends a message to a room, dropping the oldest beyond `perRoom`. */
  add(room: string, message: ChatMessage): void {
    const messages = this.#rooms.get(room) ?? [];
    this.#rooms.delete(room);
    messages.push(message);
    if (messages.length > this.perRoom) messages.splice(0, messages.length - this.perRoom);
    this.#rooms.set(room, messages);
    if (this.#rooms.size > this.maxRooms) {
      const oldest = this.#rooms.keys().next().value;
      if (oldest !== undefined) this.#rooms.delete(oldest);
    }
  }

  /** The room's recent messages, oldest first (a copy). Empty for a room never written to. */
  recent(room: string): ChatMessage[] {
    return [...(this.#rooms.get(room) ?? [])];
  }

  /** Names of the rooms that have history. */
  rooms(): string[] {
    return [...this.#rooms.keys()];
  }
}
