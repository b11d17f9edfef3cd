import type { TrainConfig } from '../run/config.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadImageFolder } from './image-folder.js';
import type { ImageDataset, ProgressCallback } from './image-dataset.js';
import { loadMnist } from './mnist.js';

export interface LoadDatasetOptions {
  /** Reports files read (image folders, the Fashion-MNIST package), for a progress bar. */
  onProgress?: ProgressCallback;
}

/** Loads the dataset a config names. */
export async function loadDataset(data: TrainConfig['data'], { onProgress }: LoadDatasetOptions = {}): Promise<ImageDataset> {
  switch (data.dataset) {
    case 'mnist':
      return loadMnist({ folder: data.path, limit: data.limit });
    case 'fashion-mnist':
      return loadFashionMnist({ folder: data.path, limit: data.limit, onProgress });
    case 'folder':
      return loadImageFolder({ ...data, onProgress });
  }
}
