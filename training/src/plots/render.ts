// SVG → PNG. librsvg (inside sharp's libvips) rasterises the SVG with real fonts; the pixels then go
// through the same PNG encoder as sample grids. Text needs a system font (DejaVu here); without one
// librsvg still renders the marks.
import sharp from 'sharp';
import { encodePng, type RawImage } from '@gantry/files/image';

/** Rasterises an SVG to opaque 8-bit RGB pixels (flattened on white). */
export async function svgToPixels(svg: string): Promise<RawImage> {
  const { data, info } = await sharp(Buffer.from(svg))
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after flattening the SVG, got ${info.channels}`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

export async function svgToPng(svg: string): Promise<Buffer> {
  return encodePng(await svgToPixels(svg));
}
