// Pan (drag) and zoom (wheel, buttons, keyboard) for an SVG layer, by rewriting one
// transform attribute: translate(tx, ty) scale(k).

const MIN_SCALE = 0.05;
const MAX_SCALE = 4;
const DRAG_THRESHOLD = 4;

export class PanZoom {
  constructor(svgEl, layer) {
    this.svg = svgEl;
    this.layer = layer;
    this.k = 1;
    this.tx = 0;
    this.ty = 0;
    this.dragged = false;
    svgEl.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    svgEl.addEventListener("pointerdown", (e) => this.onDown(e));
    svgEl.addEventListener("keydown", (e) => this.onKey(e));
  }

  apply() {
    this.layer.setAttribute("transform", `translate(${this.tx},${this.ty}) scale(${this.k})`);
  }

  /** Screen (svg-local) position of a layout point. */
  toScreen(p) {
    return { x: p.x * this.k + this.tx, y: p.y * this.k + this.ty };
  }

  /** Keep layout point `p` at screen position `screen` (after a re-layout). */
  keepAt(p, screen) {
    this.tx = screen.x - p.x * this.k;
    this.ty = screen.y - p.y * this.k;
    this.apply();
  }

  size() {
    const rect = this.svg.getBoundingClientRect();
    return { w: rect.width || 800, h: rect.height || 600 };
  }

  zoomAt(factor, cx, cy) {
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.k * factor));
    const f = k / this.k;
    this.tx = cx - (cx - this.tx) * f;
    this.ty = cy - (cy - this.ty) * f;
    this.k = k;
    this.apply();
  }

  zoomBy(factor) {
    const { w, h } = this.size();
    this.zoomAt(factor, w / 2, h / 2);
  }

  /** Fit the whole layer into view (never above 1.2× so small graphs stay readable). */
  fit() {
    const box = this.layer.getBBox();
    const { w, h } = this.size();
    if (!box.width || !box.height) return;
    const top = 44; // room for the open-scope chips over the canvas
    const bottom = 36; // and for the legend under it
    const k = Math.min(1.2, (w - 40) / box.width, (h - top - bottom) / box.height);
    this.k = Math.max(MIN_SCALE, k);
    this.tx = (w - box.width * this.k) / 2 - box.x * this.k;
    this.ty = top + (h - top - bottom - box.height * this.k) / 2 - box.y * this.k;
    this.apply();
  }

  centerOn(node) {
    const { w, h } = this.size();
    this.tx = w / 2 - node.x * this.k;
    this.ty = h / 2 - node.y * this.k;
    this.apply();
  }

  onWheel(e) {
    e.preventDefault();
    const rect = this.svg.getBoundingClientRect();
    const factor = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
    this.zoomAt(factor, e.clientX - rect.left, e.clientY - rect.top);
  }

  onDown(e) {
    if (e.button !== 0) return;
    const start = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty };
    this.dragged = false;
    const move = (ev) => {
      const dx = ev.clientX - start.x;
      const dy = ev.clientY - start.y;
      if (!this.dragged && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      if (!this.dragged) {
        this.dragged = true;
        this.svg.classList.add("dragging");
        this.svg.setPointerCapture?.(e.pointerId);
      }
      this.tx = start.tx + dx;
      this.ty = start.ty + dy;
      this.apply();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.svg.classList.remove("dragging");
      // a click event follows pointerup; keep `dragged` for it, then reset
      setTimeout(() => {
        this.dragged = false;
      }, 0);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  onKey(e) {
    if (e.target !== this.svg) return;
    const step = 60;
    const moves = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    if (moves[e.key]) {
      e.preventDefault();
      this.tx += moves[e.key][0];
      this.ty += moves[e.key][1];
      this.apply();
    } else if (e.key === "+" || e.key === "=") this.zoomBy(1.25);
    else if (e.key === "-") this.zoomBy(0.8);
    else if (e.key === "0") this.fit();
  }
}
