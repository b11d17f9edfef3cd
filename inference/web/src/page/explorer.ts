// The latent-space explorer: a grid of samples to pin and group, a walk between pinned samples that
// renders as the slider moves, and DCGAN's vector arithmetic. Models come from models/index.json beside
// the page (see the README's "Browser" section); ?model=NAME&device=auto|webgpu|wasm pick them from the URL.

import { lerp, sampleRows, seedLatent, slerp, type InterpolationMethod, type ModelCard } from '@gantry/core';
import { Generator, drawImage, type DeviceRequest, type LoadProgress, type Samples } from '../index.js';

type Tool = 'pin' | 'A' | 'B' | 'C';
type Group = 'A' | 'B' | 'C';

const GRID_SIZE = 16;
const MAX_PINS = 8;
const STRIP_FRAMES = 12;
/** Seconds the animation takes per segment of the walk. */
const SECONDS_PER_SEGMENT = 2.2;
const NEIGHBOURS = 6;
const NEIGHBOUR_SCALE = 0.25;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const ui = {
  model: element<HTMLSelectElement>('model'),
  device: element<HTMLSelectElement>('device'),
  status: element('status'),
  backend: element('backend'),
  speed: element('speed'),
  progress: element('progress'),
  error: element('error'),
  tools: element('tools'),
  shuffle: element<HTMLButtonElement>('shuffle'),
  classes: element('classes'),
  grid: element('grid'),
  hint: element('hint'),
  truncation: element<HTMLInputElement>('truncation'),
  truncationValue: element('truncation-value'),
  method: element('method'),
  play: element<HTMLButtonElement>('play'),
  frame: element<HTMLCanvasElement>('frame'),
  readout: element('readout'),
  slider: element<HTMLInputElement>('slider'),
  ticks: element<HTMLDataListElement>('ticks'),
  strip: element('strip'),
  pins: element('pins'),
  pinCount: element('pin-count'),
  equation: element('equation'),
  result: element<HTMLCanvasElement>('result'),
  neighbours: element('neighbours'),
  about: element('about'),
};

const state = {
  generator: null as Generator | null,
  seeds: [] as number[],
  images: new Map<string, ImageData>(),
  tool: 'pin' as Tool,
  pins: [] as number[],
  groups: { A: [], B: [], C: [] } as Record<Group, number[]>,
  method: 'slerp' as InterpolationMethod,
  classIndex: 0,
  /** Truncation threshold in standard deviations; undefined = off. */
  truncation: undefined as number | undefined,
  position: 0,
  playing: false,
  loadId: 0,
};

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  ui.error.textContent = message;
  ui.error.hidden = false;
  document.body.dataset.state = 'error';
}

function classOption(): { class?: number } {
  return state.generator?.card.classInput === undefined ? {} : { class: state.classIndex };
}

function imageKey(seed: number): string {
  return `${state.classIndex}:${state.truncation ?? 'off'}:${seed}`;
}

function truncationOption(): { truncation?: number } {
  return state.truncation === undefined ? {} : { truncation: state.truncation };
}

function pixelated(card: ModelCard): boolean {
  return Math.max(card.output.shape[0], card.output.shape[1]) <= 64;
}

function newCanvas(className: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.className = className;
  return canvas;
}

function drawSeed(canvas: HTMLCanvasElement, seed: number): void {
  const image = state.images.get(imageKey(seed));
  if (image !== undefined) drawImage(canvas, image);
}

function setSpeed(samples: Samples, what: string): void {
  const perImage = samples.milliseconds / samples.count;
  const shown = perImage < 10 ? perImage.toFixed(2) : perImage.toFixed(0);
  // One walk frame is one run: its time includes the run's fixed cost, so it is named for what it is.
  ui.speed.textContent = samples.count === 1 ? `${shown} ms/frame` : `${shown} ms/image`;
  ui.speed.title = `${what}: ${samples.count} image(s) in ${samples.milliseconds.toFixed(1)} ms`;
}

// ---------------------------------------------------------------- loading

function showProgress(progress: LoadProgress): void {
  const bar = ui.progress.firstElementChild as HTMLElement;
  ui.progress.classList.toggle('active', progress.stage !== 'ready');
  bar.style.width = `${Math.round(progress.fraction * 100)}%`;
  const text: Record<LoadProgress['stage'], string> = {
    card: 'reading card…',
    download:
      progress.stage === 'download' && progress.cached
        ? 'from cache…'
        : `downloading ${progress.stage === 'download' ? Math.round(progress.loaded / 1024) : 0} KB…`,
    runtime: `starting ${progress.stage === 'runtime' ? progress.backend : ''}…`,
    ready: 'ready',
  };
  ui.backend.textContent = text[progress.stage];
}

async function loadModel(name: string, device: DeviceRequest): Promise<void> {
  const loadId = ++state.loadId;
  document.body.dataset.state = 'loading';
  ui.error.hidden = true;
  const previous = state.generator;
  state.generator = null;
  stopPlaying();
  await previous?.release();
  const generator = await Generator.load(`models/${encodeURIComponent(name)}/`, { device, onProgress: showProgress });
  if (loadId !== state.loadId) {
    await generator.release();
    return;
  }
  state.generator = generator;
  const { backend, threads, reason } = generator.backendChoice;
  ui.backend.textContent = backend === 'webgpu' ? 'WebGPU' : `wasm · ${threads} thread${threads === 1 ? '' : 's'}`;
  ui.status.dataset.backend = backend;
  ui.status.title = reason;
  document.documentElement.style.setProperty('--sample-rendering', pixelated(generator.card) ? 'pixelated' : 'auto');
  state.images.clear();
  state.classIndex = 0;
  renderClasses(generator);
  renderAbout(generator);
  state.seeds = Array.from({ length: GRID_SIZE }, randomSeed);
  // Something to look at straight away: a walk through three samples and a filled-in equation.
  state.pins = state.seeds.slice(0, 3);
  state.groups = { A: [state.seeds[3]!], B: [state.seeds[4]!], C: [state.seeds[5]!] };
  state.position = 0;
  await ensureImages(state.seeds);
  renderGrid();
  // For the benchmark: when the first pictures appeared, relative to navigation.
  if (performance.getEntriesByName('gantry:first-image').length === 0) performance.mark('gantry:first-image');
  await refreshAll();
  document.body.dataset.state = 'ready';
}

function renderAbout(generator: Generator): void {
  const { card } = generator;
  const [h, w, c] = card.output.shape;
  const facts = [
    `<b>${escapeHtml(card.name)}</b>`,
    escapeHtml(card.description || card.dataset),
    `${h}×${w}${c === 3 ? ' RGB' : ''} from a ${card.latent.size}-d ${card.latent.distribution} latent`,
    card.training === undefined ? '' : `${card.training.steps.toLocaleString()} training steps`,
    `${generator.backendChoice.reason}`,
    generator.fromCache ? 'model from cache' : 'model downloaded',
  ];
  ui.about.innerHTML = facts
    .filter((f) => f !== '')
    .map((f) => `<span>${f}</span>`)
    .join('');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function renderClasses(generator: Generator): void {
  const names = generator.classNames;
  ui.classes.hidden = names.length === 0;
  ui.classes.replaceChildren(
    ...names.map((name, index) => {
      const chip = document.createElement('button');
      chip.className = 'chip';
      chip.textContent = name;
      chip.setAttribute('role', 'radio');
      chip.setAttribute('aria-checked', String(index === state.classIndex));
      chip.addEventListener('click', () => {
        state.classIndex = index;
        for (const other of ui.classes.children) other.setAttribute('aria-checked', String(other === chip));
        scheduleRefresh();
      });
      return chip;
    }),
  );
}

// ---------------------------------------------------------------- grid

async function ensureImages(seeds: readonly number[]): Promise<void> {
  const generator = state.generator;
  if (generator === null) return;
  const missing = [...new Set(seeds)].filter((seed) => !state.images.has(imageKey(seed)));
  if (missing.length === 0) return;
  const samples = await generator.generate({ seeds: missing, ...classOption(), ...truncationOption() });
  missing.forEach((seed, i) => state.images.set(imageKey(seed), samples.image(i)));
  setSpeed(samples, 'grid');
}

function groupsOf(seed: number): Group[] {
  return (['A', 'B', 'C'] as const).filter((group) => state.groups[group].includes(seed));
}

function renderGrid(): void {
  const cells = state.seeds.map((seed) => {
    const cell = document.createElement('button');
    cell.className = 'cell';
    cell.dataset.seed = String(seed);
    cell.title = `seed ${seed}`;
    const canvas = newCanvas('sample');
    drawSeed(canvas, seed);
    cell.append(canvas);
    const badges = document.createElement('span');
    badges.className = 'badges';
    if (state.pins.includes(seed)) cell.classList.add('pinned');
    for (const group of groupsOf(seed)) {
      const badge = document.createElement('b');
      badge.className = `tag-${group.toLowerCase()}`;
      badge.textContent = group;
      badges.append(badge);
    }
    cell.append(badges);
    cell.addEventListener('click', () => onCellClick(seed));
    return cell;
  });
  ui.grid.replaceChildren(...cells);
  const hints: Record<Tool, string> = {
    pin: 'Click a sample to pin it to the walk; click again to unpin.',
    A: 'Click samples to put them in group A (their mean latent is the first term).',
    B: 'Click samples to put them in group B (subtracted).',
    C: 'Click samples to put them in group C (added).',
  };
  ui.hint.textContent = hints[state.tool];
}

function onCellClick(seed: number): void {
  if (state.tool === 'pin') {
    if (state.pins.includes(seed)) state.pins = state.pins.filter((s) => s !== seed);
    else state.pins = [...state.pins, seed].slice(-MAX_PINS);
    renderGrid();
    void refreshWalk().catch(showError);
  } else {
    const group = state.groups[state.tool];
    state.groups[state.tool] = group.includes(seed) ? group.filter((s) => s !== seed) : [...group, seed];
    renderGrid();
    void refreshArithmetic().catch(showError);
  }
}

// ---------------------------------------------------------------- walk

function segments(): number {
  return state.pins.length < 2 ? 0 : state.pins.length === 2 ? 1 : state.pins.length;
}

function keyLatent(index: number): Float32Array {
  const generator = state.generator!;
  return seedLatent(generator.card.latent, state.pins[index % state.pins.length]!, state.truncation);
}

/** The latent at `position` ∈ [0, 1] along the walk (a loop through the pins when there are three or more). */
function walkLatent(position: number): { latent: Float32Array; from: number; to: number; t: number } {
  const count = segments();
  const scaled = Math.min(position, 0.999999) * count;
  const segment = Math.floor(scaled);
  const t = scaled - segment;
  const mix = state.method === 'slerp' ? slerp : lerp;
  return {
    latent: mix(keyLatent(segment), keyLatent(segment + 1), t),
    from: state.pins[segment]!,
    to: state.pins[(segment + 1) % state.pins.length]!,
    t,
  };
}

let wantedPosition: number | null = null;
let drawing = false;

/** Renders the frame at `position`; while a frame renders, only the newest wanted position is kept. */
function requestFrame(position: number): void {
  wantedPosition = position;
  if (!drawing) void pumpFrames();
}

async function pumpFrames(): Promise<void> {
  drawing = true;
  try {
    while (wantedPosition !== null && state.generator !== null) {
      const position = wantedPosition;
      wantedPosition = null;
      if (segments() === 0) {
        ui.readout.textContent = 'pin two samples to walk between them';
        break;
      }
      const { latent, from, to, t } = walkLatent(position);
      const samples = await state.generator.run(latent, classOption().class);
      samples.draw(ui.frame);
      ui.frame.dataset.position = position.toFixed(4);
      ui.readout.textContent = `${from} → ${to} · t ${t.toFixed(2)}`;
      setSpeed(samples, 'walk frame');
      highlightStrip(position);
    }
  } catch (error) {
    showError(error);
  } finally {
    drawing = false;
  }
}

function highlightStrip(position: number): void {
  const frames = ui.strip.children.length;
  const nearest = Math.round(position * frames) % Math.max(1, frames);
  [...ui.strip.children].forEach((child, i) => child.classList.toggle('current', i === nearest));
}

async function refreshWalk(): Promise<void> {
  const generator = state.generator;
  if (generator === null) return;
  ui.pinCount.textContent = `${state.pins.length} / ${MAX_PINS}`;
  await ensureImages(state.pins);
  ui.pins.replaceChildren(
    ...state.pins.map((seed) => {
      const pin = document.createElement('button');
      pin.className = 'pin';
      pin.title = `seed ${seed} (click to unpin)`;
      const canvas = newCanvas('sample');
      drawSeed(canvas, seed);
      pin.append(canvas);
      pin.addEventListener('click', () => onCellClickPin(seed));
      return pin;
    }),
  );
  const count = segments();
  ui.slider.disabled = count === 0;
  ui.play.disabled = count === 0;
  if (count === 0) {
    ui.strip.replaceChildren();
    requestFrame(0);
    return;
  }
  // The strip samples the walk the slider moves along, the same number of frames per segment, so that
  // every pinned sample is a frame of it (marked).
  const perSegment = Math.max(2, Math.round(STRIP_FRAMES / count));
  const frames = perSegment * count;
  const size = generator.card.latent.size;
  const rows = new Float32Array(frames * size);
  for (let i = 0; i < frames; i++) rows.set(walkLatent(i / frames).latent, i * size);
  const samples = await generator.run(rows, classOption().class);
  ui.strip.replaceChildren(
    ...samples.images().map((image, i) => {
      const button = document.createElement('button');
      button.className = i % perSegment === 0 ? 'frame key' : 'frame';
      button.title = `jump to ${Math.round((i / frames) * 100)}%`;
      const canvas = newCanvas('sample');
      drawImage(canvas, image);
      button.append(canvas);
      button.addEventListener('click', () => setPosition(i / frames));
      return button;
    }),
  );
  ui.ticks.replaceChildren(
    ...Array.from({ length: count + 1 }, (_, i) => new Option('', String(Math.round((i / count) * 1000)))),
  );
  setPosition(state.position);
}

function onCellClickPin(seed: number): void {
  state.pins = state.pins.filter((s) => s !== seed);
  renderGrid();
  void refreshWalk().catch(showError);
}

function setPosition(position: number): void {
  state.position = position;
  ui.slider.value = String(Math.round(position * 1000));
  requestFrame(position);
}

let lastTick = 0;

function tick(now: number): void {
  if (!state.playing) return;
  const elapsed = lastTick === 0 ? 0 : (now - lastTick) / 1000;
  lastTick = now;
  const count = Math.max(1, segments());
  // Only move on while the previous frame has been drawn, so a slow backend slows the walk instead of skipping.
  if (!drawing) setPosition((state.position + elapsed / (SECONDS_PER_SEGMENT * count)) % 1);
  requestAnimationFrame(tick);
}

function startPlaying(): void {
  if (segments() === 0) return;
  state.playing = true;
  lastTick = 0;
  ui.play.textContent = '❚❚';
  ui.play.setAttribute('aria-label', 'pause');
  requestAnimationFrame(tick);
}

function stopPlaying(): void {
  state.playing = false;
  ui.play.textContent = '▶';
  ui.play.setAttribute('aria-label', 'play');
}

// ---------------------------------------------------------------- arithmetic

async function refreshArithmetic(): Promise<void> {
  const generator = state.generator;
  if (generator === null) return;
  const groups = (['A', 'B', 'C'] as const).map((group) => state.groups[group]);
  await ensureImages(groups.flat());
  for (const [i, group] of (['A', 'B', 'C'] as const).entries()) {
    const term = ui.equation.querySelector<HTMLElement>(`.term[data-group="${group}"]`)!;
    const members = term.querySelector('.members')!;
    members.replaceChildren(
      ...groups[i]!.map((seed) => {
        const canvas = newCanvas('sample mini');
        drawSeed(canvas, seed);
        return canvas;
      }),
    );
    term.classList.toggle('empty', groups[i]!.length === 0);
  }
  const complete = groups.every((group) => group.length > 0);
  ui.equation.classList.toggle('incomplete', !complete);
  if (!complete) {
    for (const canvas of ui.equation.querySelectorAll('canvas'))
      canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
    ui.neighbours.replaceChildren();
    return;
  }
  const arithmetic = await generator.arithmetic(
    [
      { coef: 1, seeds: state.groups.A },
      { coef: -1, seeds: state.groups.B },
      { coef: 1, seeds: state.groups.C },
    ],
    { ...classOption(), ...truncationOption() },
  );
  (['A', 'B', 'C'] as const).forEach((group, i) =>
    arithmetic.samples.draw(ui.equation.querySelector<HTMLCanvasElement>(`.term[data-group="${group}"] canvas`)!, i),
  );
  arithmetic.samples.draw(ui.result, 3);
  ui.result.dataset.ready = 'true';
  // DCGAN's figure shows the result's neighbourhood: the same vector plus small fixed noise.
  const size = generator.card.latent.size;
  const noise = sampleRows({ size, distribution: 'normal' }, NEIGHBOURS, 1);
  const rows = new Float32Array(NEIGHBOURS * size);
  for (let i = 0; i < rows.length; i++) rows[i] = arithmetic.result[i % size]! + NEIGHBOUR_SCALE * noise[i]!;
  const neighbours = await generator.run(rows, classOption().class);
  ui.neighbours.replaceChildren(
    ...neighbours.images().map((image) => {
      const canvas = newCanvas('sample');
      drawImage(canvas, image);
      return canvas;
    }),
  );
}

// ---------------------------------------------------------------- wiring

async function refreshAll(): Promise<void> {
  await ensureImages([...state.seeds, ...state.pins, ...state.groups.A, ...state.groups.B, ...state.groups.C]);
  renderGrid();
  await refreshWalk();
  await refreshArithmetic();
}

let refreshing = false;
let refreshAgain = false;

/** Re-renders every panel; input events arriving meanwhile cause one more refresh at the end, not one each. */
function scheduleRefresh(): void {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  void refreshAll()
    .catch(showError)
    .finally(() => {
      refreshing = false;
      if (refreshAgain) {
        refreshAgain = false;
        scheduleRefresh();
      }
    });
}

function selectRadio(group: HTMLElement, chosen: Element): void {
  for (const button of group.querySelectorAll('[role="radio"]')) button.setAttribute('aria-checked', String(button === chosen));
}

function wire(): void {
  ui.tools.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-tool]');
    if (button === null) return;
    state.tool = button.dataset.tool as Tool;
    selectRadio(ui.tools, button);
    document.body.dataset.tool = state.tool;
    renderGrid();
  });
  ui.method.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-method]');
    if (button === null) return;
    state.method = button.dataset.method as InterpolationMethod;
    selectRadio(ui.method, button);
    void refreshWalk().catch(showError);
  });
  ui.shuffle.addEventListener('click', () => {
    state.seeds = Array.from({ length: GRID_SIZE }, randomSeed);
    void ensureImages(state.seeds).then(renderGrid).catch(showError);
  });
  ui.slider.addEventListener('input', () => {
    stopPlaying();
    setPosition(Number(ui.slider.value) / 1000);
  });
  ui.truncation.addEventListener('input', () => {
    const value = Number(ui.truncation.value);
    state.truncation = value >= Number(ui.truncation.max) ? undefined : value;
    ui.truncationValue.textContent = state.truncation === undefined ? 'off' : `${state.truncation.toFixed(1)}σ`;
    scheduleRefresh();
  });
  ui.play.addEventListener('click', () => (state.playing ? stopPlaying() : startPlaying()));
  const reload = (): void => {
    const params = new URLSearchParams(location.search);
    params.set('model', ui.model.value);
    params.set('device', ui.device.value);
    history.replaceState(null, '', `?${params}`);
    void loadModel(ui.model.value, ui.device.value as DeviceRequest).catch(showError);
  };
  ui.model.addEventListener('change', reload);
  ui.device.addEventListener('change', reload);
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if (event.key === ' ') {
      event.preventDefault();
      if (state.playing) stopPlaying();
      else startPlaying();
    }
  });
}

function showSkeleton(): void {
  ui.grid.replaceChildren(
    ...Array.from({ length: GRID_SIZE }, () => {
      const cell = document.createElement('div');
      cell.className = 'cell skeleton';
      return cell;
    }),
  );
}

async function start(): Promise<void> {
  wire();
  showSkeleton();
  const response = await fetch('models/index.json');
  if (!response.ok)
    throw new Error(
      `models/index.json: the server answered ${response.status}; ` +
        'build the site with npm run build:web or serve it with gantry serve',
    );
  const { models } = (await response.json()) as { models: string[] };
  if (!Array.isArray(models) || models.length === 0) throw new Error('models/index.json lists no models');
  ui.model.replaceChildren(...models.map((name) => new Option(name, name)));
  const params = new URLSearchParams(location.search);
  const wanted = params.get('model');
  if (wanted !== null && models.includes(wanted)) ui.model.value = wanted;
  const device = params.get('device');
  if (device === 'auto' || device === 'webgpu' || device === 'wasm') ui.device.value = device;
  await loadModel(ui.model.value, ui.device.value as DeviceRequest);
}

start().catch(showError);
