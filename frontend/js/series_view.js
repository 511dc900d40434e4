// What a scalar card draws of a series: the overview with a zoom window's full-resolution
// points spliced in, and the "global_step was never passed" test.

/** True when a series has several points that all share one step (global_step left out). */
export function sameStep(data) {
  const steps = data.step;
  return steps.length > 1 && steps.every((s) => s === steps[0]);
}

/** Keep base points outside [lo, hi] and splice the window's points in their place. */
export function merged(base, win) {
  if (!win) return base;
  const out = { step: [], wall_time: [], value: [], smoothed: [] };
  const push = (src, i) => {
    out.step.push(src.step[i]);
    out.wall_time.push(src.wall_time[i]);
    out.value.push(src.value[i]);
    out.smoothed.push(src.smoothed?.[i]);
  };
  let i = 0;
  while (i < base.step.length && base.step[i] < win.lo) push(base, i++);
  for (let j = 0; j < win.data.step.length; j++) push(win.data, j);
  while (i < base.step.length && base.step[i] <= win.hi) i++;
  while (i < base.step.length) push(base, i++);
  return out;
}
