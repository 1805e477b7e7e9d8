/**
 * What an image is, by name and by content. A path's extension says what the caller claims; the first bytes
 * say what the file is. Both must agree before anything is sent upstream, so a file that is not an image
 * (a key, /proc/self/environ behind a renamed link) never leaves as "image/png".
 * Signatures: https://www.w3.org/TR/png/#5PNG-file-signature, https://www.w3.org/Graphics/GIF/spec-gif89a.txt,
 * https://developers.google.com/speed/webp/docs/riff_container, JPEG SOI marker FF D8 FF.
 */
import { extname } from 'node:path';

export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

const BY_EXTENSION: Record<string, ImageType> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/** Bytes needed to recognise every supported type. */
export const SNIFF_BYTES = 12;

export function imageTypeOfPath(path: string): ImageType | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()];
}

export function sniffImageType(head: Uint8Array): ImageType | undefined {
  const at = (offset: number, bytes: readonly number[]) => bytes.every((b, i) => head[offset + i] === b);
  const ascii = (offset: number, text: string) =>
    at(
      offset,
      [...text].map(c => c.charCodeAt(0)),
    );
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  return undefined;
}

/** Why the content does not match the declared type, or undefined when it does. */
export function imageMismatch(declared: ImageType, head: Uint8Array): string | undefined {
  const actual = sniffImageType(head);
  if (actual === declared) return undefined;
  return actual
    ? `declared ${declared} but its content is ${actual}`
    : `its content is not a PNG, JPEG, GIF or WebP image (declared ${declared})`;
}
