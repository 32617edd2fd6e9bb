'use strict';
// Lists the protobuf full names of every message class that
// @hyperledger/fabric-protos exports (argv[2] is an unused input file).
const protos = require('@hyperledger/fabric-protos');
const roots = {
  common: protos.common, msp: protos.msp, protos: protos.peer, lifecycle: protos.peer.lifecycle,
  orderer: protos.orderer, etcdraft: protos.orderer.etcdraft, gateway: protos.gateway,
  discovery: protos.discovery, rwset: protos.ledger.rwset, kvrwset: protos.ledger.rwset.kvrwset,
  queryresult: protos.ledger.queryresult, gossip: protos.gossip,
};
// Namespaces re-export each other's classes (msp re-exports common), so a
// class keeps the first name it is found under; common is walked first.
const seen = new Map();
function walk(prefix, obj, depth) {
  if (!obj || depth > 3) return;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'function' && typeof v.deserializeBinary === 'function') {
      if (!seen.has(v)) seen.set(v, `${prefix}.${k}`);
      walk(`${prefix}.${k}`, v, depth + 1);
    }
  }
}
for (const [pkg, ns] of Object.entries(roots)) walk(pkg, ns, 0);
process.stdout.write(JSON.stringify([...seen.values()].sort()));
