'use strict';
// Decodes messages that weft's Go code encoded, using the official
// @hyperledger/fabric-protos classes, and re-encodes them with the same
// classes. Input (file named by argv[2]): JSON array of {name, b64} where
// name is the protobuf full name. Output (stdout): JSON array of
// {name, object, b64, error}: object is toObject() with bytes as base64,
// b64 is serializeBinary() of the decoded message.
const fs = require('fs');
const protos = require('@hyperledger/fabric-protos');

// Proto package -> namespace of the npm package.
const namespaces = {
  common: protos.common,
  msp: protos.msp,
  protos: protos.peer,
  lifecycle: protos.peer.lifecycle,
  orderer: protos.orderer,
  etcdraft: protos.orderer.etcdraft,
  gateway: protos.gateway,
  discovery: protos.discovery,
  rwset: protos.ledger.rwset,
  kvrwset: protos.ledger.rwset.kvrwset,
  queryresult: protos.ledger.queryresult,
  gossip: protos.gossip,
};

function resolve(fullName) {
  const parts = fullName.split('.');
  let ns = namespaces[parts[0]];
  for (const p of parts.slice(1)) {
    if (!ns) break;
    ns = ns[p];
  }
  if (typeof ns !== 'function' || typeof ns.deserializeBinary !== 'function') {
    throw new Error(`no class for ${fullName} in @hyperledger/fabric-protos`);
  }
  return ns;
}

function normalize(v) {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue;
      out[k] = normalize(val);
    }
    return out;
  }
  return v;
}

const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = jobs.map(({ name, b64 }) => {
  try {
    const cls = resolve(name);
    const msg = cls.deserializeBinary(Buffer.from(b64, 'base64'));
    return {
      name,
      object: normalize(msg.toObject()),
      b64: Buffer.from(msg.serializeBinary()).toString('base64'),
    };
  } catch (e) {
    return { name, error: String(e && e.stack || e) };
  }
});
process.stdout.write(JSON.stringify(results));
