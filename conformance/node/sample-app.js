'use strict';
// A fabric-samples style application (asset-transfer-basic) that uses only
// the files `weft up` wrote: the org's connection profile and a user's MSP
// folder. Usage: node sample-app.js <weft-data dir> [assetId]
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const { connect, signers, hash } = require('@hyperledger/fabric-gateway');

async function main() {
  const data = process.argv[2];
  const assetId = process.argv[3] || `app-${Date.now()}`;
  const org = path.join(data, 'organizations', 'peerOrganizations', 'org1.example.com');
  const profile = JSON.parse(fs.readFileSync(path.join(org, 'connection-org1.json'), 'utf8'));
  const peerName = profile.organizations.Org1.peers[0];
  const peer = profile.peers[peerName];
  const mspDir = path.join(org, 'users', 'User1@org1.example.com', 'msp');
  const certDir = path.join(mspDir, 'signcerts');
  const keyDir = path.join(mspDir, 'keystore');
  const cert = fs.readFileSync(path.join(certDir, fs.readdirSync(certDir)[0]));
  const key = fs.readFileSync(path.join(keyDir, fs.readdirSync(keyDir)[0]));

  const client = new grpc.Client(peer.url.replace(/^grpcs:\/\//, ''),
    grpc.credentials.createSsl(Buffer.from(peer.tlsCACerts.pem)),
    { 'grpc.ssl_target_name_override': peer.grpcOptions['ssl-target-name-override'] });
  const gateway = connect({
    client,
    identity: { mspId: profile.organizations.Org1.mspid, credentials: cert },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(key)),
    hash: hash.sha256,
  });
  try {
    const contract = gateway.getNetwork('mychannel').getContract('basic');
    await contract.submitTransaction('CreateAsset', assetId, 'yellow', '5', 'Tom', '1300');
    const asset = JSON.parse(Buffer.from(await contract.evaluateTransaction('ReadAsset', assetId)).toString());
    const old = Buffer.from(await contract.submitTransaction('TransferAsset', assetId, 'Saptha')).toString();
    const after = JSON.parse(Buffer.from(await contract.evaluateTransaction('ReadAsset', assetId)).toString());
    process.stdout.write(JSON.stringify({ asset, oldOwner: old, after }));
  } finally {
    gateway.close();
    client.close();
  }
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); if (e && e.details) console.error(JSON.stringify(e.details)); process.exit(1); });
