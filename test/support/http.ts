import { request } from 'node:http';

/** A plain HTTP request from a chosen local address (127.0.0.2 plays a device that is not on the access point). */
export function httpJson(url: string, method: string, body: unknown, localAddress?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(url, { method, localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.on('data', (chunk) => (data += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
    });
    req.on('error', reject);
    req.end(text);
  });
}
