// multipart/form-data bodies as Discord takes them for uploads (developers/reference.mdx
// §Uploading Files): a `payload_json` part with the JSON body and `files[n]` parts. Returns
// {fields: {name: string}, files: [{name, filename, contentType, data}]} or throws on a
// malformed body.
export function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) throw new Error('multipart body without a boundary');
  const boundary = Buffer.from('--' + (m[1] || m[2]).trim());
  const fields = {}, files = [];
  let pos = buf.indexOf(boundary);
  if (pos < 0) throw new Error('multipart boundary not found');
  for (;;) {
    pos += boundary.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break;          // "--": closing boundary
    if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) pos += 2;
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) throw new Error('multipart part without headers');
    const headers = {};
    for (const line of buf.subarray(pos, headEnd).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = buf.indexOf(boundary, headEnd + 4);
    if (next < 0) throw new Error('multipart part not terminated');
    const data = buf.subarray(headEnd + 4, next - 2);                 // minus the CRLF before the boundary
    const disp = headers['content-disposition'] || '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    if (name === undefined) throw new Error('multipart part without a name');
    if (filename !== undefined) files.push({ name, filename, contentType: headers['content-type'] || 'application/octet-stream', data: Buffer.from(data) });
    else fields[name] = data.toString('utf8');
    pos = next;
  }
  return { fields, files };
}
