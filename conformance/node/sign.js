'use strict';
// Cross-checks ECDSA signatures between weft (Go) and Node. Input: JSON
// {privateKeyPem, publicKeyPem, cases: [{message, goSignature}]} with
// base64 bytes. For each case it reports whether Node's crypto accepts
// weft's signature and whether that signature is low-S, and returns a
// signature made by fabric-gateway's own signer plus a high-S twin of it.
const crypto = require('crypto');
const fs = require('fs');
const { signers, hash } = require('@hyperledger/fabric-gateway');

const N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

function readInt(buf, off) {
  if (buf[off] !== 0x02) throw new Error('expected INTEGER');
  const len = buf[off + 1];
  const bytes = buf.subarray(off + 2, off + 2 + len);
  return { value: BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0')), next: off + 2 + len };
}
function parseDER(sig) {
  if (sig[0] !== 0x30) throw new Error('expected SEQUENCE');
  const r = readInt(sig, 2);
  const s = readInt(sig, r.next);
  return { r: r.value, s: s.value };
}
function intDER(v) {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}
function encodeDER(r, s) {
  const body = Buffer.concat([intDER(r), intDER(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

async function main() {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const pub = crypto.createPublicKey(input.publicKeyPem);
  const signer = signers.newPrivateKeySigner(crypto.createPrivateKey(input.privateKeyPem));
  const out = [];
  for (const c of input.cases) {
    const msg = Buffer.from(c.message, 'base64');
    const goSig = Buffer.from(c.goSignature, 'base64');
    const nodeSig = Buffer.from(await signer(hash.sha256(msg)));
    const { r, s } = parseDER(nodeSig);
    out.push({
      goVerifiedByNode: crypto.verify('sha256', msg, pub, goSig),
      goLowS: parseDER(goSig).s <= N / 2n,
      nodeSignature: nodeSig.toString('base64'),
      nodeHighS: encodeDER(r, N - s).toString('base64'),
    });
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
