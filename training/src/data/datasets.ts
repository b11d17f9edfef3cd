import type { TrainConfig } from '../run/config.js';
import type { ImageDataset } from './image-dataset.js';
import { loadMnist } from './mnist.js';

/** Loads the dataset a config names. */
export async function loadDataset(data: TrainConfig['data']): Promise<ImageDataset> {
  switch (data.dataset) {
    case 'mnist':
      return loadMnist({ ...(data.path !== undefined ? { folder: data.path } : {}), ...(data.limit !== undefined ? { limit: data.limit } : {}) });
  }
}
