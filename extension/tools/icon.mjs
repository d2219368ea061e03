// Draws the extension icon (extension/media/icon.png, 256x256): two CPU lanes of thread slices
// under a ring of ctxops. Plain Node (zlib), 4x4 supersampling. Run: node extension/tools/icon.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const N = 256, S = 4;
const px = new Float64Array(N * N * 4);

function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r), cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}
const shapes = [];
const rrect = (x0, y0, x1, y1, r, c) => shapes.push({ hit: (x, y) => inRoundRect(x, y, x0, y0, x1, y1, r), c });
const ring = (cx, cy, r0, r1, c, a0 = 0, a1 = 2 * Math.PI) => shapes.push({ hit: (x, y) => {
  const d = Math.hypot(x - cx, y - cy); if (d < r0 || d > r1) return false;
  let a = Math.atan2(y - cy, x - cx); if (a < 0) a += 2 * Math.PI; return a >= a0 && a <= a1; }, c });
const disc = (cx, cy, r, c) => shapes.push({ hit: (x, y) => Math.hypot(x - cx, y - cy) <= r, c });

rrect(8, 8, 248, 248, 44, [0x1b, 0x24, 0x33]);                    // background
// ctxop ring: four arcs (save order) with gaps
const cols = [[0xf2, 0xb1, 0x34], [0x4f, 0xc1, 0xe9], [0x8e, 0xd0, 0x6a], [0xe8, 0x6a, 0x5c]];
for (let i = 0; i < 4; i++) ring(128, 96, 46, 64, cols[i], i * Math.PI / 2 + 0.18, (i + 1) * Math.PI / 2 - 0.18);
disc(128, 96, 16, [0xe6, 0xe9, 0xef]);
// two CPU lanes with thread slices
rrect(36, 176, 220, 200, 6, [0x2c, 0x37, 0x4b]);
rrect(36, 210, 220, 234, 6, [0x2c, 0x37, 0x4b]);
rrect(40, 179, 110, 197, 4, cols[1]); rrect(114, 179, 160, 197, 4, cols[0]); rrect(164, 179, 216, 197, 4, cols[1]);
rrect(40, 213, 92, 231, 4, cols[2]); rrect(96, 213, 176, 231, 4, cols[3]); rrect(180, 213, 216, 231, 4, cols[2]);

for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
  let r = 0, g = 0, b = 0, a = 0;
  for (let sy = 0; sy < S; sy++) for (let sx = 0; sx < S; sx++) {
    const fx = x + (sx + 0.5) / S, fy = y + (sy + 0.5) / S;
    let c;
    for (const s of shapes) if (s.hit(fx, fy)) c = s.c;
    if (c) { r += c[0]; g += c[1]; b += c[2]; a += 255; }
  }
  const k = S * S, i = (y * N + x) * 4, cov = a / 255;
  px[i] = cov ? r / cov : 0; px[i + 1] = cov ? g / cov : 0; px[i + 2] = cov ? b / cov : 0; px[i + 3] = a / k;
}

const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (buf) => { let c = 0xffffffff; for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
}
const raw = Buffer.alloc(N * (N * 4 + 1));
for (let y = 0; y < N; y++) {
  raw[y * (N * 4 + 1)] = 0;
  for (let x = 0; x < N * 4; x++) raw[y * (N * 4 + 1) + 1 + x] = Math.round(px[y * N * 4 + x]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(N, 0); ihdr.writeUInt32BE(N, 4); ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
writeFileSync(new URL('../media/icon.png', import.meta.url), png);
console.log(`icon.png ${png.length} bytes`);
