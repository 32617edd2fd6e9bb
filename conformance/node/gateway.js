'use strict';
// Drives a weft peer with the official @hyperledger/fabric-gateway client,
// the way a fabric-samples application does. Input (argv[2], JSON):
// {endpoint, tlsRootCert, hostAlias, mspId, certPem, keyPem, channel,
//  chaincode, assetId}. Output: JSON with what each step returned, so the
// Go test can check it.
const crypto = require('crypto');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { connect, signers, hash } = require('@hyperledger/fabric-gateway');

async function main() {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const client = new grpc.Client(input.endpoint, grpc.credentials.createSsl(Buffer.from(input.tlsRootCert)), {
    'grpc.ssl_target_name_override': input.hostAlias,
  });
  const gateway = connect({
    client,
    identity: { mspId: input.mspId, credentials: Buffer.from(input.certPem) },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(input.keyPem)),
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 30000 }),
    endorseOptions: () => ({ deadline: Date.now() + 60000 }),
    submitOptions: () => ({ deadline: Date.now() + 30000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60000 }),
  });
  const out = {};
  try {
    const network = gateway.getNetwork(input.channel);
    const qscc = network.getContract('qscc');
    const { common } = require('@hyperledger/fabric-protos');
    const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', input.channel));
    out.heightBefore = info.getHeight();

    const contract = network.getContract(input.chaincode);
    const asset = { ID: input.assetId, Color: 'blue', Size: 5, Owner: 'Tom' };
    const commit = await contract.submitAsync('CreateAsset', {
      arguments: [asset.ID, asset.Color, String(asset.Size), asset.Owner],
    });
    out.createTxId = commit.getTransactionId();
    const status = await commit.getStatus();
    out.createStatus = { code: status.code, successful: status.successful, blockNumber: Number(status.blockNumber) };
    out.readAsset = JSON.parse(Buffer.from(await contract.evaluateTransaction('ReadAsset', asset.ID)).toString());
    await contract.submitTransaction('UpdateAsset', asset.ID, asset.Color, String(asset.Size), 'Alice');
    out.readAfterTransfer = JSON.parse(Buffer.from(await contract.evaluateTransaction('ReadAsset', asset.ID)).toString());
    try {
      await contract.evaluateTransaction('ReadAsset', 'no-such-asset');
      out.missingError = null;
    } catch (e) {
      out.missingError = String(e.details && e.details.length ? e.details[0].message : e.message);
    }
    const after = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', input.channel));
    out.heightAfter = after.getHeight();

    // Chaincode events from the block of the create transaction.
    const events = await network.getChaincodeEvents(input.chaincode, { startBlock: BigInt(out.createStatus.blockNumber) });
    out.events = [];
    try {
      for await (const ev of events) {
        out.events.push({ name: ev.eventName, txId: ev.transactionId, payload: Buffer.from(ev.payload).toString() });
        if (out.events.length >= 2) break;
      }
    } finally {
      events.close();
    }
  } finally {
    gateway.close();
    client.close();
  }
  process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  if (e && e.details) console.error(JSON.stringify(e.details));
  process.exit(1);
});
