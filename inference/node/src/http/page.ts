// The simple built-in page: every model with a sample grid (served when no browser site is given).

import type { ModelCard } from '@gantry/core';
import type { ModelRegistry } from '../registry.js';
import { MAX_SCALE } from './schemas.js';

function escapeHtml(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (c) => entities[c]!);
}

/** The page listing every served model with a sample grid and a class picker for conditional models. */
export function indexPage(registry: ModelRegistry): string {
  const sections = registry.names().map((name) => {
    const model = registry.get(name);
    const card: ModelCard = model.card;
    const path = `/v1/models/${encodeURIComponent(name)}`;
    const [h, w, c] = card.output.shape;
    const scale = Math.max(1, Math.min(MAX_SCALE, Math.round(96 / Math.max(h, w))));
    const classes = card.classInput?.classes;
    const facts = [
      `dataset ${card.dataset}`,
      `${h}×${w}×${c} output`,
      `latent ${card.latent.size}-d ${card.latent.distribution}`,
      ...(classes !== undefined ? [`class-conditional: ${classes} classes`] : []),
      ...(card.training ? [`${card.training.steps} training steps`] : []),
      `running on ${model.provider}`,
    ];
    // A conditional model's grid starts with one sample per class in turn; the form picks one class.
    const everyClass = classes === undefined ? undefined : Array.from({ length: 16 }, (_, i) => i % classes).join(',');
    const query = `n=16&seed=7&scale=${scale}${everyClass === undefined ? '' : `&class=${everyClass}`}`;
    const picker =
      classes === undefined
        ? ''
        : `
  <form class="classes" action="${escapeHtml(`${path}/grid.png`)}" method="get">
    <input type="hidden" name="n" value="16"><input type="hidden" name="seed" value="7"><input type="hidden" name="scale" value="${scale}">
    <label>class <select name="class"><option value="${everyClass}">every class in turn</option>${Array.from({ length: classes }, (_, k) => `<option value="${k}">${escapeHtml(card.classInput?.names?.[k] === undefined ? String(k) : `${k} ${card.classInput.names[k]}`)}</option>`).join('')}</select></label>
    <button>show</button>
  </form>`;
    return `<section>
  <h2><a href="${escapeHtml(path)}">${escapeHtml(name)}</a></h2>
  <p>${escapeHtml(card.description)}</p>
  <p class="facts">${facts.map(escapeHtml).join(' · ')}</p>${picker}
  <img alt="16 samples from ${escapeHtml(name)}" src="${escapeHtml(`${path}/grid.png?${query}`)}">
</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gantry models</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }
  img { image-rendering: pixelated; border: 1px solid #ccc; }
  .facts { color: #555; font-size: 0.9rem; }
  code { background: #f3f3f3; padding: 0.1rem 0.3rem; }
</style>
</head>
<body>
<h1>Gantry models</h1>
<p>Each grid shows 16 samples for seed 7. Generate your own with
<code>curl -H 'Content-Type: application/json' -d '{"n":16,"seed":7}' http://HOST/v1/models/NAME/generate -o grid.png</code>
(send <code>Accept: application/json</code> for latents and per-sample PNGs; a class-conditional model
also takes <code>"class": 3</code>, or one class per sample <code>"class": [0, 1, …]</code>).
Interpolation, arithmetic and latents: see <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join('\n')}
<script>
// Without script the form opens the grid itself; with it, the grid above the form changes in place.
for (const form of document.querySelectorAll('form.classes')) {
  const show = (event) => {
    event?.preventDefault();
    form.nextElementSibling.src = form.action + '?' + new URLSearchParams(new FormData(form));
  };
  form.addEventListener('submit', show);
  form.querySelector('select').addEventListener('change', () => show());
}
</script>
</body>
</html>
`;
}
