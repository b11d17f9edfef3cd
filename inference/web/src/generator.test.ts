import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cardUrl } from './generator.js';

test('a model URL names a folder (with or without the slash) or a card file, relative to the page', () => {
  const page = 'https://example.org/explorer/index.html?model=x';
  assert.equal(cardUrl('models/mnist-dcgan/', page).href, 'https://example.org/explorer/models/mnist-dcgan/card.json');
  assert.equal(cardUrl('models/mnist-dcgan', page).href, 'https://example.org/explorer/models/mnist-dcgan/card.json');
  assert.equal(cardUrl('/m/every%20option/card.json', page).href, 'https://example.org/m/every%20option/card.json');
});
