/**
 * Which turn of the event loop this is: a number that changes once the code running now, and the
 * nextTick callbacks it queued before asking, have run. Downstreams use it to send the first frame
 * a connection gets in a tick at once and to hold the rest of that tick's frames for one write.
 * One nextTick per tick for the whole process, however many connections ask.
 */
let tick = 1;
let armed = false;

function advance(): void {
  armed = false;
  tick++;
}

export function currentTick(): number {
  if (!armed) {
    armed = true;
    process.nextTick(advance);
  }
  return tick;
}
