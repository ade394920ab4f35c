// What a Pix payment shows the buyer (reference/payments.md §1.1): the "copia e cola" string
// (an EMV BR Code with a correct CRC16, so a parser in the daemon or a bank app accepts it) and
// `qr_code_base64`, a real PNG. The PNG is not a scannable QR code (that would need an encoder):
// it is a small black-and-white grid derived from the payload's hash, valid enough for any image
// decoder and for a Discord attachment. Built with node:zlib only.
import crypto from 'node:crypto';
import zlib from 'node:zlib';

// One EMV field: id (2 digits), length (2 digits), value.
function tlv(id, value) {
  const v = String(value);
  if (v.length > 99) throw new Error(`EMV field ${id} too long`);
  return `${id}${String(v.length).padStart(2, '0')}${v}`;
}

// CRC16-CCITT (poly 0x1021, init 0xFFFF), the checksum BR Codes end with (field 63).
export function crc16(str) {
  let crc = 0xffff;
  for (const byte of Buffer.from(str, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

// A dynamic Pix (field 26 with a location URL, point of initiation 12 = single use).
export function pixPayload({ amount, txid, location, merchantName = 'ASTRA FAKE MP', merchantCity = 'SAO PAULO' }) {
  const body = tlv('00', '01') + tlv('01', '12')
    + tlv('26', tlv('00', 'br.gov.bcb.pix') + tlv('25', location))
    + tlv('52', '0000') + tlv('53', '986') + tlv('54', Number(amount).toFixed(2)) + tlv('58', 'BR')
    + tlv('59', merchantName.slice(0, 25)) + tlv('60', merchantCity.slice(0, 15))
    + tlv('62', tlv('05', txid.slice(0, 25)))
    + '6304';
  return body + crc16(body);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// A grayscale PNG of `cells`×`cells` squares of `scale` pixels, with a 2-cell white border,
// the pattern taken from SHA-256 of `text` (same text, same image).
export function pngFor(text, { cells = 21, scale = 4 } = {}) {
  const bits = crypto.createHash('sha256').update(text).digest();
  const size = (cells + 4) * scale;
  const raw = Buffer.alloc(size * (size + 1), 255);
  for (let y = 0; y < size; y++) {
    raw[y * (size + 1)] = 0;                   // filter byte: none
    for (let x = 0; x < size; x++) {
      const cx = Math.floor(x / scale) - 2, cy = Math.floor(y / scale) - 2;
      if (cx < 0 || cy < 0 || cx >= cells || cy >= cells) continue;
      const i = cy * cells + cx;
      const on = (bits[(i >> 3) % bits.length] >> (i & 7)) & 1;
      raw[y * (size + 1) + 1 + x] = on ? 0 : 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;   // bit depth
  ihdr[9] = 0;   // colour type: grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}
