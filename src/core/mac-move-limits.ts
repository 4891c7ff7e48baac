// How MAC moves are reported: the limits a forwarding thread keeps when it reports the
// moves its fdbs make (src/forwarding/mac-moves.ts), which the events that report them
// (src/core/event-kinds.ts) and the counters (src/core/counters.ts) describe. Constants;
// used on the forwarding threads and the main thread.

/** Moves of one MAC within a second past which it is flapping. */
export const MAC_FLAP_MOVES = 3;
/** Moves held between two reports, at most. */
export const MAX_REPORTED_MOVES = 64;
/** How often a forwarding thread reports the moves it recorded. */
export const MOVE_REPORT_MS = 100;
